using MlPlatform.ServiceDefaults.Storage;
using System.Buffers;
using Microsoft.Extensions.Options;
using MlPlatform.BatchScorer.Input;
using MlPlatform.BatchScorer.Queue;
using MlPlatform.BatchScorer.Scoring;
using MlPlatform.BatchScorer.Storage;
using MlPlatform.BatchScorer.Telemetry;
using StackExchange.Redis;

namespace MlPlatform.BatchScorer.Jobs;

/// <summary>
/// Accepts jobs: the input is streamed into the data folder, scanned once into chunks, the model reference pinned,
/// and the manifest fsynced before anything reaches Redis; the manifest is the commit point (the reconciler repairs Redis from it).
/// </summary>
public sealed class JobSubmitter(
    JobFiles files, JobStore store, ChunkQueue queue, ModelResolver models, IOptions<BatchJobOptions> options,
    BatchMetrics metrics, TimeProvider clock, ILogger<JobSubmitter> logger)
{
    private BatchJobOptions Limits => options.Value;

    public static string NewJobId() => Guid.CreateVersion7().ToString("N");

    /// <summary>Checks what can be checked before any input is read.</summary>
    /// <exception cref="InputRejectedException">The spec is incomplete or out of limits.</exception>
    public void ValidateSpec(JobSpec spec)
    {
        if (string.IsNullOrWhiteSpace(spec.Model))
        {
            throw new InputRejectedException("'model' is required.");
        }
        if (spec.Version is not null && spec.Alias is not null)
        {
            throw new InputRejectedException("Give either 'version' or 'alias', not both.");
        }
        if (spec.Version is <= 0)
        {
            throw new InputRejectedException("'version' must be a positive integer.");
        }
        if (spec.Input is null || !InputFormat.IsKnown(spec.Input.Format))
        {
            throw new InputRejectedException("'input.format' must be 'jsonl' or 'csv'.");
        }
        if (spec.ChunkSize is { } size && (size < Limits.MinChunkSize || size > Limits.MaxChunkSize))
        {
            throw new InputRejectedException($"'chunkSize' must be between {Limits.MinChunkSize} and {Limits.MaxChunkSize} (BatchJobOptions).");
        }
    }

    /// <summary>Streams <paramref name="source"/> into the job's input file (fsynced), refusing more than <paramref name="maxBytes"/>.</summary>
    /// <returns>Bytes stored.</returns>
    /// <exception cref="InputRejectedException">The input is larger than allowed (413).</exception>
    public async Task<long> StoreInputAsync(string id, Stream source, long maxBytes, CancellationToken cancellationToken)
    {
        files.CreateJobDirectory(id);
        var path = files.InputPath(id);
        var temporary = path + ".tmp";
        long total = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    total += read;
                    if (total > maxBytes)
                    {
                        throw new InputRejectedException($"The input is larger than {maxBytes} bytes (BatchJobOptions).", StatusCodes.Status413PayloadTooLarge);
                    }
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
            DurableFiles.FsyncDirectory(Path.GetDirectoryName(path)!);
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    /// <summary>Stores inline input text.</summary>
    public async Task StoreInlineInputAsync(string id, string data, CancellationToken cancellationToken)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(data);
        if (bytes.Length > Limits.MaxInlineBytes)
        {
            throw new InputRejectedException(
                $"Inline input is {bytes.Length} bytes; the limit is {Limits.MaxInlineBytes} (BatchJobOptions:MaxInlineBytes). Upload larger inputs as a multipart 'input' file.",
                StatusCodes.Status413PayloadTooLarge);
        }
        using var stream = new MemoryStream(bytes, writable: false);
        await StoreInputAsync(id, stream, Limits.MaxInputBytes, cancellationToken);
    }

    /// <summary>Turns a stored input into an accepted job. On any failure the job's folder is removed.</summary>
    /// <exception cref="InputRejectedException">The input or the model reference cannot become a job.</exception>
    /// <exception cref="HttpRequestException">The registry is unreachable.</exception>
    public async Task<JobAccepted> AcceptAsync(string id, JobSpec spec, string? submittedBy, CancellationToken cancellationToken)
    {
        using var activity = BatchMetrics.ActivitySource.StartActivity("batch.submit");
        activity?.SetTag("batch.job.id", id);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["JobId"] = id });
        try
        {
            ValidateSpec(spec);
            var format = spec.Input!.Format!;
            var model = await models.ResolveAsync(spec.Model!, spec.Version, spec.Alias, spec.Outputs, cancellationToken);

            InputScan scan;
            await using (var input = new FileStream(files.InputPath(id), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous))
            {
                scan = await InputScanner.ScanAsync(input, spec.ChunkSize ?? Limits.DefaultChunkSize, Limits.MaxRowBytes, Limits.MaxRows, Limits.MaxChunks,
                    format == InputFormat.Csv ? CsvRowParser.LooksLikeHeader : null, cancellationToken);
            }
            if (scan.RowsTotal == 0)
            {
                throw new InputRejectedException("The input has no rows.");
            }
            var header = scan.HeaderLine is null ? null : CsvRowParser.SplitHeader(scan.HeaderLine);
            // Fails now, not in a worker, when the CSV cannot be mapped onto the model's inputs.
            _ = RowParsers.Create(format, model.Inputs, header);

            var manifest = new JobManifest
            {
                Id = id,
                Model = model.Name,
                Version = model.Version,
                Sha256 = model.Sha256,
                Alias = model.Alias,
                Format = format,
                CsvHeader = header,
                Inputs = model.Inputs,
                Outputs = model.Outputs,
                ChunkSize = spec.ChunkSize ?? Limits.DefaultChunkSize,
                RowsTotal = scan.RowsTotal,
                Chunks = scan.Chunks,
                FailFast = spec.FailFast,
                CreatedAt = clock.GetUtcNow(),
                SubmittedBy = submittedBy,
            };
            await files.WriteManifestAsync(manifest, cancellationToken);

            try
            {
                await store.CreateAsync(manifest);
                await queue.EnqueueAsync(id, manifest.Chunks.Select(c => c.Index));
            }
            catch (RedisException ex)
            {
                // The manifest is durable: the reconciler creates the job's Redis state and enqueues its chunks once Redis answers.
                logger.LogWarning(ex, "Job {JobId} accepted while Redis is unavailable; the reconciler will enqueue it", id);
            }
            metrics.JobSubmitted(format);
            logger.LogInformation("Accepted job {JobId}: {Rows} rows in {Chunks} chunks for {Model} v{Version}",
                id, manifest.RowsTotal, manifest.Chunks.Count, manifest.Model, manifest.Version);
            return new JobAccepted(id, JobStatus.Queued, JobStore.JobLinksFor(id));
        }
        catch
        {
            files.DeleteJob(id);
            throw;
        }
    }

    /// <summary>Removes the folder of a submission that failed before <see cref="AcceptAsync"/>.</summary>
    public void Abandon(string id) => files.DeleteJob(id);
}
