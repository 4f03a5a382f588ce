using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using MlPlatform.BatchScorer.Input;
using MlPlatform.BatchScorer.Jobs;
using MlPlatform.BatchScorer.Profiles;
using MlPlatform.BatchScorer.Queue;
using MlPlatform.BatchScorer.Scoring;
using MlPlatform.BatchScorer.Storage;
using MlPlatform.Inference.Registry;

namespace MlPlatform.BatchScorer.Apis;

/// <summary>
/// <c>POST /v1/models/{name}/versions/{v}/reference</c> (operator; the gateway routes it here, since the batch scorer owns the row
/// parsers and the job files): a succeeded job's input becomes the version's drift reference, profiled here and stored by the registry.
/// </summary>
public static class ReferenceApi
{
    public static IEndpointRouteBuilder MapReferenceApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/models/{name}/versions/{version}/reference", PostReference)
            .WithTags("Quality")
            .WithName("PostDriftReferenceFromJob")
            .WithSummary("Make a succeeded batch job's input the drift reference of a model version")
            .Accepts<ReferenceRequest>("application/json")
            .WithDescription("Body {\"jobId\": \"...\"} (400 naming what is wrong with any other body). The job's rows are parsed for the version's inputs (400 naming the field when they do not fit), "
                + "the first input's features profiled (deciles as bin edges, shares per bin) and stored by the registry; the version's drift is then "
                + "measured against it instead of its first logged requests. 404 for an unknown job or version, 409 while the job has not succeeded.");
        return app;
    }

    public static async Task<Results<Ok<InputProfile>, ProblemHttpResult>> PostReference(string name, string version,
        HttpRequest request, JobStore store, JobFiles files, JobRestorer restorer, ReferenceProfiler profiler, RegistryClient registry,
        IOptions<ReferenceOptions> options, CancellationToken cancellationToken)
    {
        if (!int.TryParse(version, System.Globalization.CultureInfo.InvariantCulture, out var number) || number < 1)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid version", $"'{version}' is not a version number (an integer from 1).");
        }
        if (await RequestBodies.ReadBoundedAsync(request, options.Value.MaxRequestBytes, cancellationToken) is not { } body)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large",
                $"The body is over {options.Value.MaxRequestBytes} bytes (Reference:MaxRequestBytes): send {{\"jobId\": \"...\"}}.");
        }
        var (jobId, bodyError) = ReferenceRequestReader.Read(body);
        if (jobId is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid reference", bodyError!);
        }
        var caller = JobCaller.From(request);
        var job = await BatchJobsApi.FindAsync(jobId, caller, store, files, restorer, cancellationToken);
        if (job is null)
        {
            return Problem(StatusCodes.Status404NotFound, "Not found", $"Batch job '{jobId}' does not exist.");
        }
        if (job.Status != JobStatus.Succeeded)
        {
            return Problem(StatusCodes.Status409Conflict, "Job not succeeded",
                $"Batch job '{jobId}' is {job.Status}; only a succeeded job's input can be a drift reference.");
        }
        try
        {
            var target = await registry.GetVersionAsync(name, number, cancellationToken);
            if (target is null)
            {
                return Problem(StatusCodes.Status404NotFound, "Not found", $"Model '{name}' has no version {number}.");
            }
            var inputs = ModelResolver.ToRowInputs(target.Signature);
            var manifest = await files.ReadManifestAsync(job.Id, cancellationToken);
            var profile = await profiler.ProfileAsync(manifest, inputs, cancellationToken);
            await registry.PutReferenceAsync(name, number, profile, caller.Actor, cancellationToken);
            return TypedResults.Ok(profile);
        }
        catch (InputRejectedException ex)
        {
            return Problem(ex.StatusCode, "Input does not fit the version", ex.Message);
        }
        catch (HttpRequestException ex)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "Registry unavailable", $"The reference could not be stored: {ex.Message}");
        }
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail });
}
