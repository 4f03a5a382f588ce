using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using MlPlatform.Inference.Batching;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Caching;
using MlPlatform.OnlineScorer.Model;
using MlPlatform.OnlineScorer.Telemetry;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// The infer pipeline: read the body into a pooled buffer, lease the serving version, decode and check against its signature,
/// answer from the response cache or run (batched or not), encode the response. Every failure becomes a V2 error.
/// </summary>
public sealed class InferenceService(ModelRepository repository, ResponseCache cache, InferenceMetrics metrics, FleetStatsRecorder fleet,
    IOptions<InferenceLimitsOptions> limits, IOptions<BatchingOptions> batching, ILogger<InferenceService> logger)
{
    private const string HeaderLengthHeader = "Inference-Header-Content-Length";

    public async Task<IResult> InferAsync(HttpContext context, string name, string? versionText)
    {
        var started = Stopwatch.GetTimestamp();
        var versionTag = versionText ?? "";
        // Set once a version answers, so fleet statistics are kept only for real versions (bounded keys), never for names a client made up.
        string? servedVersion = null;
        byte[]? body = null;
        try
        {
            int? version = null;
            if (versionText is not null)
            {
                if (!int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v <= 0)
                {
                    throw new InferenceProtocolException($"Unknown version '{versionText}' of model '{name}'.", StatusCodes.Status404NotFound);
                }
                version = v;
            }
            var jsonLength = ReadHeaderLength(context.Request);
            int bodyLength;
            (body, bodyLength) = await ReadBodyAsync(context.Request, limits.Value.MaxRequestBodyBytes, context.RequestAborted);

            using var lease = await repository.AcquireAsync(name, version, context.RequestAborted);
            var loaded = lease.Version;
            versionTag = loaded.VersionText;
            servedVersion = loaded.VersionText;
            Activity.Current?.SetTag("mlplatform.model", name);
            Activity.Current?.SetTag("mlplatform.model.version", loaded.VersionText);
            using var activity = InferenceMetrics.ActivitySource.StartActivity("infer " + name);
            activity?.SetTag("mlplatform.model", name);
            activity?.SetTag("mlplatform.model.version", loaded.VersionText);

            using var request = InferRequestReader.Read(body.AsSpan(0, bodyLength), jsonLength, loaded.Signature,
                new InferRequestLimits(limits.Value.MaxElementsPerInput));
            ArrayPool<byte>.Shared.Return(body);
            body = null;

            var inputs = InSignatureOrder(request.Inputs, loaded.Signature);
            var outputNames = request.Outputs.Count > 0 ? request.Outputs.Select(o => o.Name).ToArray() : loaded.Session.OutputNames;

            string? cacheStatus = null;
            string? cacheKey = null;
            TensorBuffer[]? outputs = null;
            if (loaded.Settings.ResponseCache?.Enabled == true)
            {
                cacheKey = ResponseCache.KeyFor(loaded.Sha256, inputs, outputNames);
                outputs = await cache.TryGetAsync(cacheKey);
                cacheStatus = outputs is null ? "miss" : "hit";
                if (outputs is null)
                {
                    metrics.CacheMiss(name);
                }
                else
                {
                    metrics.CacheHit(name);
                }
            }
            outputs ??= await RunAsync(loaded, inputs, outputNames, context.RequestAborted);
            try
            {
                if (cacheKey is not null && cacheStatus == "miss")
                {
                    await cache.SetAsync(cacheKey, outputs);
                }
                var binary = new bool[outputs.Length];
                for (var i = 0; i < outputs.Length; i++)
                {
                    binary[i] = request.WantsBinary(outputs[i].Name);
                }
                var response = new PooledBufferWriter(EstimateSize(outputs, binary));
                try
                {
                    var headerLength = InferResponseWriter.Write(response, name, loaded.VersionText, request.Id, outputs, binary);
                    var elapsed = Stopwatch.GetElapsedTime(started);
                    metrics.Request(name, versionTag, "success", elapsed);
                    fleet.Record(name, loaded.VersionText, StatusCodes.Status200OK, elapsed);
                    return new InferResult(response, headerLength, cacheStatus);
                }
                catch
                {
                    response.Dispose();
                    throw;
                }
            }
            finally
            {
                foreach (var output in outputs)
                {
                    output.Dispose();
                }
            }
        }
        catch (InferenceProtocolException ex)
        {
            return Fail(name, versionTag, servedVersion, started, ex.StatusCode, ex.Message);
        }
        catch (BatchQueueFullException ex)
        {
            return Fail(name, versionTag, servedVersion, started, StatusCodes.Status503ServiceUnavailable, ex.Message);
        }
        catch (OnnxRuntimeException ex)
        {
            return Fail(name, versionTag, servedVersion, started, StatusCodes.Status400BadRequest, $"The model rejected the request: {ex.Message}");
        }
        catch (BadHttpRequestException ex)
        {
            return Fail(name, versionTag, servedVersion, started, ex.StatusCode, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"The request body exceeds {limits.Value.MaxRequestBodyBytes} bytes."
                : $"Bad request: {ex.Message}");
        }
        // The client went away, or shutdown aborted the connection after the drain time (RequestAborted may not be signalled yet then).
        catch (OperationCanceledException ex) when (context.RequestAborted.IsCancellationRequested || ex.InnerException is ConnectionAbortedException)
        {
            metrics.Request(name, versionTag, "cancelled", Stopwatch.GetElapsedTime(started));
            return new V2ErrorResult(499, "The client went away.");
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Inference on {Model} version {Version} failed", name, versionTag);
            return Fail(name, versionTag, servedVersion, started, StatusCodes.Status500InternalServerError, $"Inference failed: {ex.Message}");
        }
        finally
        {
            if (body is not null)
            {
                ArrayPool<byte>.Shared.Return(body);
            }
        }
    }

    private V2ErrorResult Fail(string name, string version, string? servedVersion, long started, int status, string message)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (servedVersion is not null)
        {
            fleet.Record(name, servedVersion, status, elapsed);
        }
        var outcome = status switch
        {
            StatusCodes.Status503ServiceUnavailable => "unavailable",
            >= 500 => "error",
            StatusCodes.Status404NotFound => "not_found",
            StatusCodes.Status413PayloadTooLarge => "too_large",
            _ => "bad_request",
        };
        metrics.Request(name, version, outcome, elapsed);
        return new V2ErrorResult(status, message,
            status == StatusCodes.Status503ServiceUnavailable ? batching.Value.RetryAfterSeconds : null);
    }

    private async ValueTask<TensorBuffer[]> RunAsync(LoadedVersion loaded, IReadOnlyList<TensorBuffer> inputs, IReadOnlyList<string> outputNames,
        CancellationToken cancellationToken)
    {
        if (!loaded.BatchingEnabled || loaded.Batcher is not { } batcher)
        {
            var computeStarted = Stopwatch.GetTimestamp();
            var direct = loaded.Session.Run(inputs, outputNames);
            metrics.Batch(loaded.Model, loaded.VersionText, TimeSpan.Zero, Stopwatch.GetElapsedTime(computeStarted),
                inputs.Count > 0 && inputs[0].Shape.Length > 0 ? inputs[0].Shape[0] : 1);
            return direct;
        }

        var result = await batcher.RunAsync(inputs, cancellationToken);
        metrics.Batch(loaded.Model, loaded.VersionText, result.QueueTime, result.ComputeTime, result.BatchRows);
        var all = result.Outputs;
        if (ReferenceEquals(outputNames, loaded.Session.OutputNames))
        {
            return all;
        }
        // The batcher computes every output so that requests asking for different outputs share runs; keep the requested ones.
        var selected = new TensorBuffer[outputNames.Count];
        for (var i = 0; i < outputNames.Count; i++)
        {
            selected[i] = all.First(o => o.Name == outputNames[i]);
        }
        foreach (var output in all)
        {
            if (Array.IndexOf(selected, output) < 0)
            {
                output.Dispose();
            }
        }
        return selected;
    }

    private static IReadOnlyList<TensorBuffer> InSignatureOrder(IReadOnlyList<TensorBuffer> inputs, ModelSignature signature)
    {
        if (inputs.Count == 1)
        {
            return inputs;
        }
        var ordered = new TensorBuffer[signature.Inputs.Count];
        for (var i = 0; i < ordered.Length; i++)
        {
            var spec = signature.Inputs[i];
            foreach (var input in inputs)
            {
                if (input.Name == spec.Name)
                {
                    ordered[i] = input;
                    break;
                }
            }
        }
        return ordered;
    }

    private static int EstimateSize(TensorBuffer[] outputs, bool[] binary)
    {
        long size = 256;
        for (var i = 0; i < outputs.Length; i++)
        {
            size += binary[i] ? outputs[i].ByteLength + 128 : outputs[i].ElementCount * 14 + 128;
        }
        return (int)Math.Min(size, 16 << 20);
    }

    private static int? ReadHeaderLength(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(HeaderLengthHeader, out var values))
        {
            return null;
        }
        if (!int.TryParse(values.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            throw new InferenceProtocolException($"{HeaderLengthHeader} must be a non-negative integer, not '{values}'.");
        }
        return length;
    }

    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw new InferenceProtocolException($"The request body has {request.ContentLength} bytes; the limit is {limit}.", StatusCodes.Status413PayloadTooLarge);
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? 16 * 1024, 1, limit));
        var length = 0;
        try
        {
            while (true)
            {
                var capacity = (int)Math.Min(buffer.Length, limit);
                if (length == capacity)
                {
                    if (length >= limit)
                    {
                        // One byte more than the limit tells an oversized chunked body from one that fits exactly.
                        var probe = new byte[1];
                        if (await request.Body.ReadAsync(probe, cancellationToken) == 0)
                        {
                            break;
                        }
                        throw new InferenceProtocolException($"The request body exceeds {limit} bytes.", StatusCodes.Status413PayloadTooLarge);
                    }
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                    continue;
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length, capacity - length), cancellationToken);
                if (read == 0)
                {
                    break;
                }
                length += read;
            }
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
