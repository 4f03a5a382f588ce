using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.ModelRegistry.Aliases;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Rollouts;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

public static class AliasesApi
{
    public const int MaxReasonLength = Problems.MaxReasonLength;

    public static IEndpointRouteBuilder MapAliasesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models/{name}").WithTags("Aliases")
            .AddEndpointFilter<ProblemJsonFilter>();

        api.MapGet("/aliases/{alias}", GetAlias)
            .WithName("GetAlias")
            .WithSummary("Get the version an alias points at");

        api.MapPut("/aliases/{alias}", SetAlias)
            .WithName("SetAlias")
            .WithSummary("Point an alias at a version")
            .WithDescription("Body {version, reason, weight?, force?}. weight (0-100) is the share of unversioned traffic the alias takes from production; "
                + "production itself has none. Moving production to a version whose signature is incompatible with the current one answers 409 with "
                + "the differences unless force is true (the forced move is recorded with them). The change is recorded with the caller and reason, then published on Redis.");

        api.MapDelete("/aliases/{alias}", DeleteAlias)
            .WithName("DeleteAlias")
            .WithSummary("Remove an alias");

        api.MapGet("/aliases/{alias}/history", GetAliasHistory)
            .WithName("GetAliasHistory")
            .WithSummary("Every change of an alias, oldest first");

        api.MapPost("/rollback", Rollback)
            .WithName("RollbackProduction")
            .WithSummary("Move production back to its previous good version")
            .WithDescription("Goes to the last version production held before the current one that was not itself rolled back from, "
                + "so repeated rollbacks go further back. 409 when there is none.");

        return app;
    }

    public static async Task<Results<Ok<AliasInfo>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> GetAlias(
        string name, string alias, ModelStore store, CancellationToken cancellationToken)
    {
        if ((Problems.CheckName(name) ?? Problems.CheckName(alias, "alias")) is { } invalid)
        {
            return invalid;
        }
        var model = await store.GetModelAsync(name, cancellationToken);
        return model?.Aliases.SingleOrDefault(a => a.Name == alias) is { } found
            ? TypedResults.Ok(found)
            : Problems.NotFound(model is null ? $"Model '{name}' does not exist." : $"Model '{name}' has no alias '{alias}'.");
    }

    public static async Task<Results<Ok<AliasInfo>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> SetAlias(
        string name, string alias, SetAliasRequest body, HttpRequest request, AliasStore store, ModelStore models, EventPublisher events,
        RolloutService rollouts, CancellationToken cancellationToken)
    {
        if ((Problems.CheckName(name) ?? Problems.CheckName(alias, "alias")) is { } invalid)
        {
            return invalid;
        }
        if (body.Version is not > 0)
        {
            return Problems.BadRequest("Invalid alias change", "'version' is required and must be a version number (an integer from 1).");
        }
        if (CheckReason(body.Reason) is { } badReason)
        {
            return badReason;
        }
        if (body.Weight is { } weight && (weight is < 0 or > 100 || alias == RollbackPlanner.ProductionAlias))
        {
            return Problems.BadRequest("Invalid weight",
                "'weight' is a share of unversioned traffic between 0 and 100, and only aliases other than 'production' take one (production serves the rest).");
        }

        IReadOnlyList<string>? forcedOver = null;
        if (alias == RollbackPlanner.ProductionAlias)
        {
            var (refusal, forced) = await ContractCheck.CheckAsync(models, name, body.Version.Value, body.Force == true, cancellationToken);
            if (refusal is not null)
            {
                return refusal;
            }
            forcedOver = forced;
        }
        var caller = Problems.CallerOf(request);
        var result = await store.SetAliasAsync(name, alias, body.Version.Value, body.Weight, body.Reason!.Trim(), caller, cancellationToken, forcedOver);
        if (alias == RollbackPlanner.ProductionAlias && result.Value?.Event is { } promoted)
        {
            // A plain promotion is watched by the guard, which rolls it back if it breaks its clients. The promotion is committed:
            // a guard that cannot be recorded is logged, never turned into a failed request.
            try
            {
                await rollouts.StartGuardAsync(name, body.Version.Value, promoted.PreviousVersion, caller, cancellationToken);
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex)
            {
                request.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AliasesApi))
                    .LogError(ex, "The guard of {Model} version {Version} could not be recorded; the promotion is not watched", name, body.Version.Value);
            }
        }
        return await Publish(result, events) switch
        {
            { Status: StoreStatus.Ok } ok => TypedResults.Ok(ok.Value!.Alias!),
            { Status: StoreStatus.Conflict } conflict => Problems.Conflict("Version is archived", conflict.Error!),
            var notFound => Problems.NotFound(notFound.Error!),
        };
    }

    public static async Task<Results<NoContent, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> DeleteAlias(
        string name, string alias, [Description("Why the alias is removed (recorded in its history)")] string? reason,
        HttpRequest request, AliasStore store, EventPublisher events, CancellationToken cancellationToken)
    {
        if ((Problems.CheckName(name) ?? Problems.CheckName(alias, "alias")) is { } invalid)
        {
            return invalid;
        }
        if (reason?.Length > MaxReasonLength)
        {
            return Problems.BadRequest("Invalid reason", $"'reason' has at most {MaxReasonLength} characters.");
        }
        var result = await store.DeleteAliasAsync(name, alias, string.IsNullOrWhiteSpace(reason) ? "alias removed" : reason.Trim(),
            Problems.CallerOf(request), cancellationToken);
        return await Publish(result, events) is { Status: StoreStatus.Ok }
            ? TypedResults.NoContent()
            : Problems.NotFound(result.Error!);
    }

    public static async Task<Results<Ok<IReadOnlyList<AliasChange>>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> GetAliasHistory(
        string name, string alias, AliasStore store, CancellationToken cancellationToken)
    {
        if ((Problems.CheckName(name) ?? Problems.CheckName(alias, "alias")) is { } invalid)
        {
            return invalid;
        }
        var result = await store.GetAliasHistoryAsync(name, alias, cancellationToken);
        return result.Status == StoreStatus.Ok ? TypedResults.Ok(result.Value!) : Problems.NotFound(result.Error!);
    }

    public static async Task<Results<Ok<AliasInfo>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Rollback(
        string name, RollbackRequest body, HttpRequest request, AliasStore store, EventPublisher events, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        if (CheckReason(body.Reason) is { } badReason)
        {
            return badReason;
        }
        var result = await store.RollbackAsync(name, body.Reason!.Trim(), Problems.CallerOf(request), cancellationToken);
        return await Publish(result, events) switch
        {
            { Status: StoreStatus.Ok } ok => TypedResults.Ok(ok.Value!.Alias!),
            { Status: StoreStatus.Conflict } conflict => Problems.Conflict("Nothing to roll back to", conflict.Error!),
            var notFound => Problems.NotFound(notFound.Error!),
        };
    }

    private static BadRequest<ProblemDetails>? CheckReason(string? reason) =>
        string.IsNullOrWhiteSpace(reason) || reason.Length > MaxReasonLength
            ? Problems.BadRequest("Invalid reason", $"'reason' is required (it is recorded in the alias history) and has at most {MaxReasonLength} characters.")
            : null;

    /// <summary>Publishes the change after the store committed it.</summary>
    private static async Task<StoreResult<AliasUpdate>> Publish(StoreResult<AliasUpdate> result, EventPublisher events)
    {
        if (result.Value?.Event is { } change)
        {
            await events.PublishAsync(change);
        }
        return result;
    }
}
