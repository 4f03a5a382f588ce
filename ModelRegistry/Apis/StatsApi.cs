using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Fleet;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

public static class StatsApi
{
    public const string DefaultWindow = "5m";

    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models/{name}/versions/{version}").WithTags("Statistics")
            .AddEndpointFilter<ProblemJsonFilter>();

        api.MapGet("/stats", GetVersionStats)
            .WithName("GetVersionStats")
            .WithSummary("Requests, server errors, client errors, rejections, error rate and p50/p99 server latency of a version across every scorer replica")
            .WithDescription("window is a duration such as 30s, 5m or 1h (default 5m, at most FleetStats:RetentionSeconds). "
                + "errors/errorRate count server errors only (the version failed a valid request); clientErrors (the request was wrong) and "
                + "rejected (back-pressure) are beside them. routed* fields are the alias-routed traffic, the only one rollouts and the guard judge.");

        api.MapGet("/stats/series", GetVersionStatsSeries)
            .WithName("GetVersionStatsSeries")
            .WithSummary("A version's requests/s, error rate and p50/p99 latency over a window, one point per step, across every scorer replica")
            .WithDescription("window and step are durations (defaults 1h and 1m). Whole-minute steps read per-minute statistics, kept FleetStats:MinuteRetentionSeconds "
                + "(default 7h); shorter steps read per-second ones, kept FleetStats:RetentionSeconds (default 30m). At most 1440 points. "
                + "Every point has counts by counter name (listed in 'counters': requests, errors), the seconds it covers, and null rates where there was no request.");

        return app;
    }

    public const string DefaultSeriesWindow = "1h";
    public const string DefaultSeriesStep = "1m";

    public static async Task<Results<Ok<VersionStatsSeries>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ProblemHttpResult>> GetVersionStatsSeries(
        string name, string version,
        [Description("Duration such as 15m, 1h, 6h; default 1h")] string? window,
        [Description("Duration such as 15s, 1m, 5m; default 1m")] string? step,
        ModelStore store, FleetStatsSeriesReader reader, CancellationToken cancellationToken)
    {
        if (Problems.CheckVersionRoute(name, version, out var number) is { } invalid)
        {
            return invalid;
        }
        if (!DurationText.TryParse(window ?? DefaultSeriesWindow, out var span))
        {
            return Problems.BadRequest("Invalid window", "'window' is a duration such as 15m, 1h or 6h.");
        }
        if (!DurationText.TryParse(step ?? DefaultSeriesStep, out var stepSpan))
        {
            return Problems.BadRequest("Invalid step", "'step' is a duration such as 15s, 1m or 5m.");
        }
        if (reader.Check(span, stepSpan) is { } problem)
        {
            return Problems.BadRequest("Invalid series", problem);
        }
        if (await store.GetVersionAsync(name, number, cancellationToken) is null)
        {
            return Problems.NotFound($"Model '{name}' has no version {number}.");
        }
        // Redis down: DependencyUnavailableHandler answers 503 with Retry-After (registered in AddApplicationServices).
        return TypedResults.Ok(await reader.ReadAsync(name, number, span, stepSpan, cancellationToken));
    }

    public static async Task<Results<Ok<VersionStatsReport>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ProblemHttpResult>> GetVersionStats(
        string name, string version, [Description("Duration such as 30s, 5m, 1h; default 5m")] string? window,
        ModelStore store, FleetStatsReader reader, CancellationToken cancellationToken)
    {
        if (Problems.CheckVersionRoute(name, version, out var number) is { } invalid)
        {
            return invalid;
        }
        window ??= DefaultWindow;
        if (!DurationText.TryParse(window, out var span) || span < TimeSpan.FromSeconds(1) || span > reader.MaxWindow)
        {
            return Problems.BadRequest("Invalid window",
                $"'window' is a duration such as 30s, 5m or 1h, from 1s to {DurationText.Format(reader.MaxWindow)} (statistics are kept that long).");
        }
        if (await store.GetVersionAsync(name, number, cancellationToken) is null)
        {
            return Problems.NotFound($"Model '{name}' has no version {number}.");
        }
        // Redis down: DependencyUnavailableHandler answers 503 with Retry-After (registered in AddApplicationServices).
        var stats = await reader.ReadAsync(name, number, span, cancellationToken);
        return TypedResults.Ok(reader.Report(name, number, span, stats));
    }
}
