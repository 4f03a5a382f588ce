using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Rollouts;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

public static class RolloutsApi
{
    public const int MaxSteps = 20;

    public static IEndpointRouteBuilder MapRolloutsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models/{name}/rollouts").WithTags("Rollouts")
            .AddEndpointFilter<ProblemJsonFilter>();

        api.MapPost("/", StartRollout)
            .WithName("StartRollout")
            .WithSummary("Start a progressive rollout of a version through the canary alias")
            .WithDescription("Body {version, steps?, stepInterval?, maxErrorRate?, maxP99Ms?, minRequests?, deadline?, force?, reason?, gates?} (defaults [10,25,50,100], 30s, 0.01, 250, 50, 10m, none). "
                + "reason (at most 1000 characters) is recorded as the rollout's startReason and in the canary's alias history. "
                + "gates {accuracyDropMax?, driftPsiMax?, shadowAgreementMin?}: quality gates judged on each step's window once it holds enough data; "
                + "a gate without enough data is inconclusive and never holds a step, a failed one rolls back. "
                + "A version whose signature is incompatible with production's answers 409 with the differences unless force is true. "
                + "Each step gives the canary its weight; each interval is analysed from the fleet statistics; a breach rolls back, the last step promotes. 409 while another rollout of the model runs.");

        api.MapGet("/", ListRollouts)
            .WithName("ListRollouts")
            .WithSummary("The model's rollouts and guards, newest first");

        api.MapGet("/{id}", GetRollout)
            .WithName("GetRollout")
            .WithSummary("A rollout's steps, current weight, analyses and outcome");

        api.MapDelete("/{id}", AbortRollout)
            .WithName("AbortRollout")
            .WithSummary("Abort a running rollout: the canary is removed, production untouched")
            .WithDescription("?reason= (optional, at most 1000 characters) is recorded in the rollout's reason and the canary's alias history.");

        return app;
    }

    public static async Task<Results<Created<Rollout>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> StartRollout(
        string name, StartRolloutRequest body, HttpRequest request, RolloutService service, ModelStore models, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        if (body.Version is not > 0)
        {
            return Problems.BadRequest("Invalid rollout", "'version' is required and must be a version number (an integer from 1).");
        }
        var steps = body.Steps ?? StartRolloutRequest.DefaultSteps;
        if (steps.Length is 0 or > MaxSteps || steps.Any(s => s is < 1 or > 100) || steps.Zip(steps.Skip(1)).Any(p => p.Second <= p.First))
        {
            return Problems.BadRequest("Invalid rollout", $"'steps' are 1 to {MaxSteps} canary weights from 1 to 100, strictly increasing, such as [10, 25, 50, 100].");
        }
        if (!DurationText.TryParse(body.StepInterval ?? StartRolloutRequest.DefaultStepInterval, out var interval)
            || interval < TimeSpan.FromSeconds(1) || interval > TimeSpan.FromHours(1))
        {
            return Problems.BadRequest("Invalid rollout", "'stepInterval' is a duration from 1s to 1h, such as 30s or 5m.");
        }
        if (!DurationText.TryParse(body.Deadline ?? StartRolloutRequest.DefaultDeadline, out var deadline)
            || deadline < interval || deadline > TimeSpan.FromHours(24))
        {
            return Problems.BadRequest("Invalid rollout", "'deadline' is a duration from 'stepInterval' to 24h, such as 10m.");
        }
        var maxErrorRate = body.MaxErrorRate ?? StartRolloutRequest.DefaultMaxErrorRate;
        if (maxErrorRate is < 0 or > 1 || double.IsNaN(maxErrorRate))
        {
            return Problems.BadRequest("Invalid rollout", "'maxErrorRate' is a fraction from 0 to 1.");
        }
        var maxP99Ms = body.MaxP99Ms ?? StartRolloutRequest.DefaultMaxP99Ms;
        if (maxP99Ms is <= 0 or > 600_000 || double.IsNaN(maxP99Ms))
        {
            return Problems.BadRequest("Invalid rollout", "'maxP99Ms' is a latency in milliseconds above 0 and at most 600000.");
        }
        var minRequests = body.MinRequests ?? StartRolloutRequest.DefaultMinRequests;
        if (minRequests is < 1 or > 10_000_000)
        {
            return Problems.BadRequest("Invalid rollout", "'minRequests' is from 1 to 10000000.");
        }
        if (Problems.CheckOptionalReason(body.Reason) is { } badReason)
        {
            return badReason;
        }

        if (CheckGates(body.Gates) is { } badGate)
        {
            return Problems.BadRequest("Invalid rollout", badGate);
        }

        var (refusal, forcedOver) = await ContractCheck.CheckAsync(models, name, body.Version.Value, body.Force == true, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }
        var result = await service.StartAsync(name, body.Version.Value, steps, interval, maxErrorRate, maxP99Ms, minRequests, deadline,
            Problems.CallerOf(request), cancellationToken, forcedOver, Problems.TrimmedOrNull(body.Reason), body.Gates);
        return result.Status switch
        {
            StoreStatus.Ok => TypedResults.Created($"/v1/models/{name}/rollouts/{result.Value!.Id}", result.Value),
            StoreStatus.Conflict => Problems.Conflict("Rollout not started", result.Error!),
            _ => Problems.NotFound(result.Error!),
        };
    }

    /// <summary>The first member that names no gate, or the first gate out of its bounds, as a sentence naming it; null when all are valid.</summary>
    public static string? CheckGates(QualityGates? gates) => gates switch
    {
        { Unknown: { Count: > 0 } unknown } => $"'gates.{ClientText.Shorten(unknown.Keys.First(), 64)}' is not a gate: the gates are '{QualityGates.AccuracyDrop}', "
            + $"'{QualityGates.DriftPsi}' and '{QualityGates.ShadowAgreement}'.",
        { AccuracyDropMax: { } d } when d is < 0 or > 1 || double.IsNaN(d) => "'gates.accuracyDropMax' is a fraction from 0 to 1.",
        { DriftPsiMax: { } p } when p is < 0 or > 100 || double.IsNaN(p) => "'gates.driftPsiMax' is a PSI from 0 to 100 (0.2 is a common shift threshold).",
        { ShadowAgreementMin: { } a } when a is < 0 or > 1 || double.IsNaN(a) => "'gates.shadowAgreementMin' is a fraction from 0 to 1.",
        _ => null,
    };

    public static async Task<Results<Ok<IReadOnlyList<Rollout>>, BadRequest<ProblemDetails>>> ListRollouts(
        string name, RolloutStore store, CancellationToken cancellationToken) =>
        Problems.CheckName(name) is { } invalid ? invalid : TypedResults.Ok(await store.ListAsync(name, cancellationToken));

    public static async Task<Results<Ok<Rollout>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> GetRollout(
        string name, string id, RolloutStore store, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        return await store.GetAsync(name, id, cancellationToken) is var (rollout, _)
            ? TypedResults.Ok(rollout)
            : Problems.NotFound($"Model '{name}' has no rollout '{id}'.");
    }

    public static async Task<Results<Ok<Rollout>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> AbortRollout(
        string name, string id, [Description("Why the rollout is aborted (recorded in the rollout and the canary's history); optional")] string? reason,
        HttpRequest request, RolloutService service, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        if (Problems.CheckOptionalReason(reason) is { } badReason)
        {
            return badReason;
        }
        var result = await service.AbortAsync(name, id, Problems.CallerOf(request), cancellationToken, Problems.TrimmedOrNull(reason));
        return result.Status switch
        {
            StoreStatus.Ok => TypedResults.Ok(result.Value!),
            StoreStatus.Conflict => Problems.Conflict("Rollout not running", result.Error!),
            _ => Problems.NotFound(result.Error!),
        };
    }
}
