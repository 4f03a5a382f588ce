using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Fleet;
using MlPlatform.ModelRegistry.Naming;
using MlPlatform.ModelRegistry.Storage;
using StackExchange.Redis;

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

        return app;
    }

    public static async Task<Results<Ok<VersionStatsReport>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ProblemHttpResult>> GetVersionStats(
        string name, string version, [Description("Duration such as 30s, 5m, 1h; default 5m")] string? window,
        ModelStore store, FleetStatsReader reader, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        if (!NameRules.TryParseVersion(version, out var number))
        {
            return Problems.InvalidVersion(version);
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
        try
        {
            var stats = await reader.ReadAsync(name, number, span, cancellationToken);
            return TypedResults.Ok(reader.Report(name, number, span, stats));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return Problems.Status(StatusCodes.Status503ServiceUnavailable, "Statistics unavailable", $"Redis, where the statistics are kept, cannot be read: {ex.Message}");
        }
    }
}
