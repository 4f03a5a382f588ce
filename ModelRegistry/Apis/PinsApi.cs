using MlPlatform.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

/// <summary>
/// Versions pinned on every online scorer replica. Operators pin through Triton's <c>POST /v2/repository/models/{name}/load</c> on the
/// online scorer, which records the pin here; every change publishes a pin-changed event the scorers reconcile on.
/// </summary>
public static class PinsApi
{
    public static IEndpointRouteBuilder MapPinsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models/{name}/pins").WithTags("Pins")
            .AddEndpointFilter<ProblemJsonFilter>();

        api.MapGet("/", GetPins)
            .WithName("GetPins")
            .WithSummary("The versions every online scorer keeps loaded");

        api.MapPut("/{version}", Pin)
            .WithName("PinVersion")
            .WithSummary("Keep a version loaded on every online scorer")
            .WithDescription("Idempotent: pinning a pinned version keeps its first time and caller. 409 for an archived version.");

        api.MapDelete("/{version}", Unpin)
            .WithName("UnpinVersion")
            .WithSummary("Release a version's pin")
            .WithDescription("The version stays served while an alias routes to it.");

        api.MapDelete("/", UnpinAll)
            .WithName("UnpinAllVersions")
            .WithSummary("Release every pin of a model");

        return app;
    }

    public static async Task<Results<Ok<IReadOnlyList<VersionPin>>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> GetPins(
        string name, PinStore store, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        var result = await store.GetPinsAsync(name, cancellationToken);
        return result.Status == StoreStatus.Ok ? TypedResults.Ok(result.Value!) : Problems.NotFound(result.Error!);
    }

    public static async Task<Results<Ok<IReadOnlyList<VersionPin>>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Pin(
        string name, string version, HttpRequest request, PinStore store, EventPublisher events, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        if (!NameRules.TryParseVersion(version, out var number))
        {
            return Problems.InvalidVersion(version);
        }
        var result = await store.PinAsync(name, number, Problems.CallerOf(request).Actor, cancellationToken);
        return await PublishAsync(result, events) switch
        {
            { Status: StoreStatus.Ok } ok => TypedResults.Ok(ok.Value!.Pins),
            { Status: StoreStatus.Conflict } conflict => Problems.Conflict("Version is archived", conflict.Error!),
            var notFound => Problems.NotFound(notFound.Error!),
        };
    }

    public static async Task<Results<Ok<IReadOnlyList<VersionPin>>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> Unpin(
        string name, string version, PinStore store, EventPublisher events, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        if (!NameRules.TryParseVersion(version, out var number))
        {
            return Problems.InvalidVersion(version);
        }
        return await UnpinAsync(name, number, store, events, cancellationToken);
    }

    public static async Task<Results<Ok<IReadOnlyList<VersionPin>>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> UnpinAll(
        string name, PinStore store, EventPublisher events, CancellationToken cancellationToken) =>
        Problems.CheckName(name) is { } invalid ? invalid : await UnpinAsync(name, null, store, events, cancellationToken);

    private static async Task<Results<Ok<IReadOnlyList<VersionPin>>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> UnpinAsync(
        string name, int? version, PinStore store, EventPublisher events, CancellationToken cancellationToken) =>
        await PublishAsync(await store.UnpinAsync(name, version, cancellationToken), events) is { Status: StoreStatus.Ok } ok
            ? TypedResults.Ok(ok.Value!.Pins)
            : Problems.NotFound($"Model '{name}' does not exist.");

    /// <summary>Publishes the changes after the store committed them.</summary>
    private static async Task<StoreResult<PinUpdate>> PublishAsync(StoreResult<PinUpdate> result, EventPublisher events)
    {
        foreach (var change in result.Value?.Events ?? [])
        {
            await events.PublishAsync(change);
        }
        return result;
    }
}
