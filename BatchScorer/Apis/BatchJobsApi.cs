using System.ComponentModel;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using MlPlatform.BatchScorer.Input;
using MlPlatform.BatchScorer.Jobs;
using MlPlatform.BatchScorer.Results;
using MlPlatform.BatchScorer.Storage;

namespace MlPlatform.BatchScorer.Apis;

public static class BatchJobsApi
{
    public const int MaxPageSize = 500;

    public static IEndpointRouteBuilder MapBatchJobsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/batch/jobs").WithTags("Batch jobs").AddEndpointFilter<RedisConnectedFilter>();

        api.MapPost("/", SubmitJob)
            .WithName("SubmitBatchJob")
            .WithSummary("Submit a batch scoring job")
            .WithDescription("A JSON job spec with inline input, or multipart/form-data with a 'spec' part (JSON) and an 'input' file streamed to storage. Answers 202 once the input and manifest are durable.")
            .Accepts<JobSpec>("application/json", "multipart/form-data");

        api.MapGet("/", ListJobs)
            .WithName("ListBatchJobs")
            .WithSummary("List batch jobs, newest first")
            .WithDescription("Paged; optionally only jobs in one status (queued, running, succeeded, failed, cancelled). Operators see the jobs their key submitted, admins every job.");

        api.MapGet("/{id}", GetJob)
            .WithName("GetBatchJob")
            .WithSummary("A job's status and progress");

        api.MapGet("/{id}/results", GetResults)
            .WithName("GetBatchJobResults")
            .WithSummary("Stream a job's results in input order")
            .WithDescription("JSONL by default; CSV with ?format=csv or Accept: text/csv. While the job runs, the rows of the chunks finished so far.");

        api.MapDelete("/{id}", CancelJob)
            .WithName("CancelBatchJob")
            .WithSummary("Cancel a queued or running job, or remove a finished one")
            .WithDescription("A queued or running job is cancelled (200 with the job): no new chunk starts, results of finished chunks stay readable. " +
                "A finished job (succeeded, failed, cancelled) is removed with its input and results (204). Finished jobs expire on their own after BatchJobOptions:RetentionDays.");

        return app;
    }

    public static async Task<Results<Accepted<JobAccepted>, ProblemHttpResult>> SubmitJob(
        HttpRequest request, JobSubmitter submitter, IOptions<BatchJobOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var id = JobSubmitter.NewJobId();
        try
        {
            JobSpec spec;
            if (request.HasJsonContentType())
            {
                SetBodyLimit(request, limits.MaxInlineBytes + 64 * 1024);
                spec = await ReadSpecAsync(request.Body, cancellationToken);
                submitter.ValidateSpec(spec);
                if (spec.Input?.Data is not { Length: > 0 } data)
                {
                    throw new InputRejectedException("'input.data' is required in a JSON submission; upload a file as multipart/form-data with an 'input' part instead.");
                }
                await submitter.StoreInlineInputAsync(id, data, cancellationToken);
            }
            else if (MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) && contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            {
                SetBodyLimit(request, limits.MaxInputBytes + 1024 * 1024);
                spec = await ReadMultipartAsync(request, contentType, id, submitter, limits, cancellationToken);
            }
            else
            {
                return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
                    "Send a JSON job spec (application/json) or multipart/form-data with 'spec' and 'input' parts.");
            }
            var accepted = await submitter.AcceptAsync(id, spec, JobCaller.From(request).Actor, cancellationToken);
            return TypedResults.Accepted(accepted.Links.Self, accepted);
        }
        catch (InputRejectedException ex)
        {
            submitter.Abandon(id);
            return Problem(ex.StatusCode, "Job rejected", ex.Message);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            submitter.Abandon(id);
            return Problem(StatusCodes.Status413PayloadTooLarge, "Job rejected", $"The request body is larger than allowed (BatchJobOptions): {ex.Message}");
        }
        catch (HttpRequestException ex)
        {
            submitter.Abandon(id);
            loggers.CreateLogger(typeof(BatchJobsApi)).LogWarning(ex, "The registry could not resolve the job's model");
            return Problem(StatusCodes.Status503ServiceUnavailable, "Registry unavailable", $"The model could not be resolved: {ex.Message}");
        }
        catch
        {
            // An upload cut off by the client (or any other failure) leaves no folder behind.
            submitter.Abandon(id);
            throw;
        }
    }

    public static async Task<Results<Ok<JobPage>, ProblemHttpResult>> ListJobs(
        JobStore store, HttpRequest request,
        [Description("Page number, from 0")] int pageIndex = 0,
        [Description("Jobs per page, 1-500")] int pageSize = 50,
        [Description("Only jobs in this status")] string? status = null)
    {
        if (pageSize is < 1 or > MaxPageSize || pageIndex < 0)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid paging", $"pageSize must be between 1 and {MaxPageSize} and pageIndex at least 0.");
        }
        if (status is not null && !JobStatus.All.Contains(status))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid status", $"status must be one of {string.Join(", ", JobStatus.All)}.");
        }
        return TypedResults.Ok(await store.ListAsync(pageIndex, pageSize, status, JobCaller.From(request).OwnerFilter));
    }

    public static async Task<Results<Ok<JobView>, ProblemHttpResult>> GetJob(
        string id, HttpRequest request, JobStore store, JobFiles files, Queue.JobRestorer restorer, CancellationToken cancellationToken)
    {
        var job = await FindAsync(id, JobCaller.From(request), store, files, restorer, cancellationToken);
        return job is null ? NotFound(id) : TypedResults.Ok(job);
    }

    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> GetResults(
        string id, HttpRequest request, JobStore store, JobFiles files, Queue.JobRestorer restorer, ResultReader reader,
        [Description("jsonl (default) or csv")] string? format, CancellationToken cancellationToken)
    {
        var job = await FindAsync(id, JobCaller.From(request), store, files, restorer, cancellationToken);
        if (job is null)
        {
            return NotFound(id);
        }
        var csv = format is not null
            ? format.Equals("csv", StringComparison.OrdinalIgnoreCase)
            : request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));
        if (format is not null && !csv && !format.Equals("jsonl", StringComparison.OrdinalIgnoreCase))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid format", "format must be 'jsonl' or 'csv'.");
        }
        var manifest = await files.ReadManifestAsync(id, cancellationToken);
        if (csv && !ResultReader.CanWriteCsv(manifest))
        {
            return Problem(StatusCodes.Status400BadRequest, "CSV unavailable", "An output has a dynamic shape, so rows have no fixed columns; read the results as JSONL.");
        }
        request.HttpContext.Response.Headers["X-Job-Status"] = job.Status;
        request.HttpContext.Response.Headers["X-Rows-Done"] = job.RowsDone.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return csv
            ? TypedResults.Stream(stream => reader.WriteCsvAsync(manifest, stream, cancellationToken), "text/csv; charset=utf-8")
            : TypedResults.Stream(stream => reader.WriteJsonlAsync(manifest, stream, cancellationToken), "application/jsonl; charset=utf-8");
    }

    public static async Task<Results<Ok<JobView>, NoContent, ProblemHttpResult>> CancelJob(
        string id, HttpRequest request, JobStore store, JobFiles files, Queue.JobRestorer restorer, JobLifecycle lifecycle, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, JobCaller.From(request), store, files, restorer, cancellationToken) is null)
        {
            return NotFound(id);
        }
        var (cancelled, status) = await lifecycle.CancelAsync(id);
        if (cancelled)
        {
            return TypedResults.Ok((await store.GetAsync(id))!);
        }
        if (status is not null && JobStatus.IsTerminal(status))
        {
            var (removed, _) = await lifecycle.RemoveFinishedAsync(id, "deleted by its owner or an admin");
            if (removed)
            {
                return TypedResults.NoContent();
            }
        }
        // Removed by a concurrent DELETE or the retention in between.
        return NotFound(id);
    }

    /// <summary>
    /// The job from Redis, restoring it from the data folder first when Redis lost it; null when it does not exist or is not the
    /// caller's (another key's job is answered like a missing one, so its existence is not disclosed).
    /// </summary>
    internal static async Task<JobView?> FindAsync(
        string id, JobCaller caller, JobStore store, JobFiles files, Queue.JobRestorer restorer, CancellationToken cancellationToken)
    {
        if (!JobFiles.IsValidJobId(id))
        {
            return null;
        }
        var job = await store.GetAsync(id);
        if (job is null && files.Exists(id))
        {
            await restorer.RestoreAsync(id, cancellationToken);
            job = await store.GetAsync(id);
        }
        return job is not null && caller.MaySee(job) ? job : null;
    }

    private static async Task<JobSpec> ReadSpecAsync(Stream body, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync(body, BatchJson.Default.JobSpec, cancellationToken)
                ?? throw new InputRejectedException("The job spec is empty.");
        }
        catch (JsonException ex)
        {
            throw new InputRejectedException($"The job spec is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>Reads the parts in order without buffering: the <c>input</c> file goes straight to the data folder.</summary>
    private static async Task<JobSpec> ReadMultipartAsync(
        HttpRequest request, MediaTypeHeaderValue contentType, string id, JobSubmitter submitter, BatchJobOptions limits, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw new InputRejectedException("The multipart body has no boundary.");
        }
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = limits.MaxInputBytes + 1 };
        JobSpec? spec = null;
        var hasInput = false;
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
            {
                continue;
            }
            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
            if (name == "spec")
            {
                spec = await ReadSpecAsync(await ReadSpecPartAsync(section.Body, limits.MaxSpecBytes, cancellationToken), cancellationToken);
                submitter.ValidateSpec(spec);
            }
            else if (name == "input")
            {
                await submitter.StoreInputAsync(id, section.Body, limits.MaxInputBytes, cancellationToken);
                hasInput = true;
            }
        }
        if (spec is null)
        {
            throw new InputRejectedException("The multipart body has no 'spec' part.");
        }
        if (!hasInput)
        {
            if (spec.Input?.Data is { Length: > 0 } data)
            {
                await submitter.StoreInlineInputAsync(id, data, cancellationToken);
            }
            else
            {
                throw new InputRejectedException("The multipart body has no 'input' file part.");
            }
        }
        return spec;
    }

    /// <summary>Buffers the <c>spec</c> part, refusing more than <paramref name="maxBytes"/> before it reaches the JSON reader.</summary>
    private static async Task<Stream> ReadSpecPartAsync(Stream part, int maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await part.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new InputRejectedException(
                    $"The 'spec' part is larger than {maxBytes} bytes (BatchJobOptions:MaxSpecBytes); send the input as the 'input' part.",
                    StatusCodes.Status413PayloadTooLarge);
            }
            buffer.Write(chunk, 0, read);
        }
        buffer.Position = 0;
        return buffer;
    }

    private static void SetBodyLimit(HttpRequest request, long limit)
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }
    }

    private static ProblemHttpResult NotFound(string id) =>
        Problem(StatusCodes.Status404NotFound, "Job not found", $"There is no batch job '{id}'.");

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail });
}
