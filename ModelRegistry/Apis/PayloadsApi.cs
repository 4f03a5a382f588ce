using System.ComponentModel;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Quality;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

public static class PayloadsApi
{
    public const string JsonLinesMediaType = "application/x-ndjson";
    public const int DefaultLimit = 1000;
    private static readonly TimeSpan DefaultSpan = TimeSpan.FromHours(1);

    public static IEndpointRouteBuilder MapPayloadsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models/{name}/versions/{version}").WithTags("Quality")
            .AddEndpointFilter<ProblemJsonFilter>();

        api.MapGet("/payloads", GetPayloads)
            .WithName("GetPayloads")
            .WithSummary("The version's logged requests (inputs, outputs, id, route, latency, outcome) as JSON lines, oldest first")
            .WithDescription("from and to are ISO 8601 times, or durations such as 1h meaning that long ago (defaults: from 1h ago, to now); "
                + "limit 1 to Quality:MaxPayloadsPerRead (default 1000). Operator role: inputs may be personal data.")
            .Produces(StatusCodes.Status200OK, contentType: JsonLinesMediaType);

        return app;
    }

    public static async Task<Results<PushStreamHttpResult, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> GetPayloads(
        string name, string version,
        [Description("ISO 8601 time or a duration ago (1h); default 1h ago")] string? from,
        [Description("ISO 8601 time or a duration ago; default now")] string? to,
        [Description("Most records returned; default 1000")] int? limit,
        ModelStore store, PayloadFiles files, IOptions<QualityOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Problems.CheckVersionRoute(name, version, out var number) is { } invalid)
        {
            return invalid;
        }
        var now = time.GetUtcNow();
        if (!TryParseTime(to, now, now, out var end))
        {
            return Problems.BadRequest("Invalid to", $"'to' is an ISO 8601 time or a duration such as 1h (that long ago), not '{to}'.");
        }
        if (!TryParseTime(from, now, end - DefaultSpan, out var start))
        {
            return Problems.BadRequest("Invalid from", $"'from' is an ISO 8601 time or a duration such as 1h (that long ago), not '{from}'.");
        }
        if (start >= end)
        {
            return Problems.BadRequest("Invalid range", "'from' must be before 'to'.");
        }
        var max = options.Value.MaxPayloadsPerRead;
        if (limit is { } l && (l < 1 || l > max))
        {
            return Problems.BadRequest("Invalid limit", $"'limit' must be between 1 and {max}.");
        }
        if (await store.GetVersionAsync(name, number, cancellationToken) is null)
        {
            return Problems.NotFound($"Model '{name}' has no version {number}.");
        }
        return TypedResults.Stream(async body =>
        {
            await foreach (var (line, _) in files.ReadAsync(name, number, start, end, limit ?? Math.Min(DefaultLimit, max), cancellationToken))
            {
                await body.WriteAsync(line, cancellationToken);
            }
        }, JsonLinesMediaType);
    }

    /// <summary>An ISO 8601 time, or a duration before <paramref name="now"/>; <paramref name="fallback"/> when absent.</summary>
    internal static bool TryParseTime(string? text, DateTimeOffset now, DateTimeOffset fallback, out DateTimeOffset at)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            at = fallback;
            return true;
        }
        if (DurationText.TryParse(text, out var ago))
        {
            at = now - ago;
            return true;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at);
    }
}
