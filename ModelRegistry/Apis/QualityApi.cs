using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Quality;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

public static class QualityApi
{
    public const string DefaultWindow = "1h";

    public static IEndpointRouteBuilder MapQualityApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models/{name}").WithTags("Quality")
            .AddEndpointFilter<ProblemJsonFilter>();

        api.MapPost("/feedback", PostFeedback)
            .WithName("PostFeedback")
            .WithSummary("Store ground-truth labels for logged requests, by request id")
            .WithDescription("A JSON array, or JSON lines, of {\"id\": request id, \"label\": number | string | array (one per row), \"at\": optional ISO time}. "
                + "Every item is checked first: one bad item stores nothing, and the 400 names its line. A repeated id replaces its label; ids "
                + "that name no logged request are stored and counted as unknown (the request may be logged later). Operator role.")
            .Accepts<string>("application/json", "application/x-ndjson");

        api.MapGet("/versions/{version}/quality", GetQuality)
            .WithName("GetQuality")
            .WithSummary("A version's online quality: logged and labelled requests, coverage, accuracy or MAE/RMSE, and its baseline's")
            .WithDescription("window is a duration (default 1h, at most Quality:MaxWindowHours). The baseline is production when the version is not "
                + "production, else the version production had before it. Needs quality settings (PUT .../serving with \"quality\").");

        api.MapGet("/versions/{version}/shadow", GetShadow)
            .WithName("GetShadowComparison")
            .WithSummary("How a shadow version answered the production requests copied to it: agreement, output differences, errors, latency")
            .WithDescription("window is a duration (default 1h). Pairs the version's shadow records with production's records of the same ids. "
                + "agreement needs classification quality settings; meanAbsDiff/maxAbsDiff cover the floating-point outputs both have.");

        api.MapGet("/versions/{version}/drift", GetDrift)
            .WithName("GetDrift")
            .WithSummary("Input drift of a version: per-feature PSI of the window's requests against its first logged ones")
            .WithDescription("window is a duration (default 1h). The reference is the version's stored profile (a batch job's input, POST .../reference), else its first Quality:DriftReferenceRecords logged requests "
                + "(default 500); maxPsi is null until it is complete. PSI: below 0.1 stable, above 0.2 a shift.");

        api.MapPut("/versions/{version}/reference/profile", PutReference)
            .WithName("PutDriftReference")
            .WithSummary("Store a version's drift reference profile (per-feature bin edges and shares)")
            .WithDescription("Sent by the batch scorer, which computes it from a succeeded job's input for POST .../reference {\"jobId\"} (operator, routed "
                + "to the batch scorer). Replaces the version's first logged requests as its drift reference. Admin through the gateway.");

        api.MapGet("/versions/{version}/reference/profile", GetReference)
            .WithName("GetDriftReference")
            .WithSummary("A version's stored drift reference profile; 404 when it has none (its first logged requests are the reference)");

        return app;
    }

    public static async Task<Results<Ok<InputProfile>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> PutReference(
        string name, string version, InputProfile? body, ModelStore models, ReferenceStore references, CancellationToken cancellationToken)
    {
        if (Problems.CheckVersionRoute(name, version, out var number) is { } invalid)
        {
            return invalid;
        }
        if (ReferenceStore.Check(body) is { } problem)
        {
            return Problems.BadRequest("Invalid reference", problem);
        }
        if ((await models.GetModelAsync(name, cancellationToken))?.Versions.Any(v => v.Version == number) != true)
        {
            return Problems.NotFound($"Model '{name}' has no version {number}.");
        }
        await references.PutAsync(name, number, body!, cancellationToken);
        return TypedResults.Ok(body!);
    }

    public static async Task<Results<Ok<InputProfile>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> GetReference(
        string name, string version, ReferenceStore references, CancellationToken cancellationToken)
    {
        if (Problems.CheckVersionRoute(name, version, out var number) is { } invalid)
        {
            return invalid;
        }
        return await references.GetAsync(name, number, cancellationToken) is { } profile
            ? TypedResults.Ok(profile)
            : Problems.NotFound($"Version {number} of '{name}' has no stored drift reference; its first logged requests are its reference.");
    }

    public static Task<Results<Ok<DriftReport>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ProblemHttpResult>> GetDrift(
        string name, string version, [Description("Duration such as 15m, 1h, 24h; default 1h")] string? window,
        QualityService quality, IOptions<QualityOptions> options, CancellationToken cancellationToken) =>
        ReportAsync(name, version, window, options.Value, "No drift reference", (number, span) => quality.GetDriftAsync(name, number, span, cancellationToken));

    public static Task<Results<Ok<ShadowReport>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ProblemHttpResult>> GetShadow(
        string name, string version, [Description("Duration such as 15m, 1h, 24h; default 1h")] string? window,
        QualityService quality, IOptions<QualityOptions> options, CancellationToken cancellationToken) =>
        ReportAsync(name, version, window, options.Value, "No production", (number, span) => quality.GetShadowAsync(name, number, span, cancellationToken));

    public static async Task<Results<Ok<FeedbackResult>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ProblemHttpResult>> PostFeedback(
        string name, HttpRequest request, ModelStore models, ServingStore serving, FeedbackStore feedback, IOptions<QualityOptions> options,
        CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        var settings = await serving.GetServingAsync(name, cancellationToken);
        if (settings.Status != StoreStatus.Ok)
        {
            return Problems.NotFound(settings.Error!);
        }
        if (await RequestBodies.ReadBoundedAsync(request, options.Value.MaxFeedbackBytes, cancellationToken) is not { } body)
        {
            return FeedbackTooLarge(options.Value);
        }
        var (items, error) = FeedbackParser.Parse(body, settings.Value!.Quality, options.Value.MaxFeedbackItems);
        if (error is not null)
        {
            return Problems.BadRequest("Invalid feedback", error);
        }
        return TypedResults.Ok(await feedback.PutAsync(name, items!, cancellationToken));
    }

    public static Task<Results<Ok<QualityReport>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ProblemHttpResult>> GetQuality(
        string name, string version, [Description("Duration such as 15m, 1h, 24h; default 1h")] string? window,
        QualityService quality, IOptions<QualityOptions> options, CancellationToken cancellationToken) =>
        ReportAsync(name, version, window, options.Value, "No quality settings", (number, span) => quality.GetAsync(name, number, span, cancellationToken));

    /// <summary>
    /// The one shape of the quality, drift and shadow reports: the route and window checked, the report, or its refusal as a problem
    /// (404 for an unknown model or version, else the refusal's own status under <paramref name="refusalTitle"/>).
    /// </summary>
    private static async Task<Results<Ok<T>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ProblemHttpResult>> ReportAsync<T>(
        string name, string version, string? window, QualityOptions options, string refusalTitle,
        Func<int, TimeSpan, Task<(T? Report, QualityRefusal? Refusal)>> get) where T : class
    {
        if (CheckReportQuery(name, version, window, options, out var number, out var span) is { } invalid)
        {
            return invalid;
        }
        var (report, refusal) = await get(number, span);
        return report is not null
            ? TypedResults.Ok(report)
            : refusal!.Status == StatusCodes.Status404NotFound ? Problems.NotFound(refusal.Detail)
            : Problems.Status(refusal.Status, refusalTitle, refusal.Detail);
    }

    /// <summary>The checks the quality, drift and shadow reports share: the model name, the version and the window; the first refusal, or null.</summary>
    private static BadRequest<ProblemDetails>? CheckReportQuery(string name, string version, string? window, QualityOptions options,
        out int number, out TimeSpan span)
    {
        span = default;
        if (Problems.CheckVersionRoute(name, version, out number) is { } invalid)
        {
            return invalid;
        }
        if (ParseWindow(window, options) is not { } parsed)
        {
            return Problems.BadRequest("Invalid window", $"'window' is a duration such as 15m, 1h or 24h, at most {options.MaxWindowHours}h.");
        }
        span = parsed;
        return null;
    }

    private static ProblemHttpResult FeedbackTooLarge(QualityOptions options) =>
        Problems.Status(StatusCodes.Status413PayloadTooLarge, "Feedback too large",
            $"A feedback body holds at most {options.MaxFeedbackBytes} bytes; send the labels in several requests.");

    /// <summary>A window query parameter within the configured bound; null when invalid.</summary>
    internal static TimeSpan? ParseWindow(string? window, QualityOptions options) =>
        DurationText.TryParse(window ?? DefaultWindow, out var span) && span <= TimeSpan.FromHours(options.MaxWindowHours) ? span : null;
}
