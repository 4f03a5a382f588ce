using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using MlPlatform.Inference.Batching;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Caching;
using MlPlatform.OnlineScorer.Payloads;
using MlPlatform.OnlineScorer.Shadow;
using MlPlatform.OnlineScorer.Telemetry;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// The infer pipeline every front end shares: parse the version, lease the serving version (so an unknown model is refused before its
/// body is read), let the transport receive the request, decode and check against its signature, answer from the response cache or
/// run (batched or not), let the transport encode the response. Every outcome is classified once here (<see cref="InferenceFault"/>:
/// success, client error, rejected, server error) and counted so in metrics and fleet statistics, with its server latency timed from
/// the end of the body read (a slow upload never counts).
/// </summary>
public sealed class InferenceService(ModelRepository repository, ResponseCache cache, InferenceMetrics metrics, FleetStatsRecorder fleet,
    ModelStatisticsRecorder statistics, PayloadRecorder payloads, ShadowQueue shadows, IOptions<BatchingOptions> batching,
    IOptions<InferenceLimitsOptions> limits, ILogger<InferenceService> logger)
{
    // Unbatched runs each take ONNX Runtime's threads; more at once than the cores only thrash (batched runs are bounded by their instances).
    private readonly SemaphoreSlim _runSlots = new(limits.Value.EffectiveMaxConcurrentRuns);

    /// <summary>Runs one infer call through <paramref name="transport"/>; never throws for a failed call (the outcome says why).</summary>
    public async Task<InferOutcome<TResponse>> InferAsync<TResponse>(InferCall call, IInferTransport<TResponse> transport)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(transport);
        var (name, versionText, cancellationToken, callerKey) = call;
        var routed = call.Route == InferRoute.Routed;
        var started = Stopwatch.GetTimestamp();
        // The version tag of this call's metrics: empty until a version answers, so a made-up version never becomes a series.
        var versionTag = "";
        // Set once a version answers, so fleet statistics are kept only for real versions (bounded keys), never for names a client made up.
        string? servedVersion = null;
        // A sampled request's copy for the payload log, from its decoded inputs to its end.
        PayloadCapture? capture = null;
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
            using var lease = await repository.AcquireAsync(name, version, callerKey, cancellationToken);
            await transport.ReceiveAsync(cancellationToken);
            // Server latency starts once the request is in: how long the client took to send it is not the version's.
            started = Stopwatch.GetTimestamp();
            var loaded = lease.Version;
            versionTag = loaded.VersionText;
            servedVersion = loaded.VersionText;
            Activity.Current?.SetTag("mlplatform.model", name);
            Activity.Current?.SetTag("mlplatform.model.version", loaded.VersionText);
            using var activity = InferenceMetrics.ActivitySource.StartActivity("infer " + name);
            activity?.SetTag("mlplatform.model", name);
            activity?.SetTag("mlplatform.model.version", loaded.VersionText);

            var decodeStarted = Stopwatch.GetTimestamp();
            using var request = transport.Decode(loaded.Signature);
            var computeInput = Stopwatch.GetElapsedTime(decodeStarted);
            // A request copied to the shadow version is always logged: the comparison joins both records by id.
            var shadow = shadows.Pick(call, loaded);
            capture = payloads.Begin(call, loaded, request, force: shadow is not null || call.Route == InferRoute.Shadow);

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
            var run = default(RunTimings);
            if (outputs is null)
            {
                (outputs, run) = await RunAsync(loaded, inputs, outputNames, call.Route == InferRoute.Shadow, cancellationToken);
            }
            try
            {
                if (cacheKey is not null && cacheStatus == "miss")
                {
                    await cache.SetAsync(cacheKey, outputs);
                }
                var encodeStarted = Stopwatch.GetTimestamp();
                var response = transport.Encode(new InferReply(name, loaded.VersionText, request, outputs, cacheStatus));
                var elapsed = Stopwatch.GetElapsedTime(started);
                metrics.Request(name, versionTag, "success", InferenceFault.None, elapsed);
                fleet.Record(name, loaded.VersionText, InferenceFault.None, routed, elapsed);
                statistics.Success(name, loaded.VersionText, elapsed, new InferenceTimings(
                    Rows(inputs, loaded), run.Queue, computeInput, run.Compute, Stopwatch.GetElapsedTime(encodeStarted), run.Executions,
                    cacheStatus is null ? null : cacheStatus == "hit"));
                if (shadow is not null && capture is { Sampled: false })
                {
                    // Logged only for the comparison: the record goes with the copy and is shipped only if the copy runs.
                    shadows.Enqueue(shadow, request, payloads.Complete(capture, outputs, elapsed));
                }
                else
                {
                    payloads.Succeeded(capture, outputs, elapsed);
                    if (shadow is not null)
                    {
                        shadows.Enqueue(shadow, request, productionRecord: null);
                    }
                }
                capture = null;
                return InferOutcome<TResponse>.Success(response);
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
            return Fail<TResponse>(call, versionTag, servedVersion, capture, started, ex.StatusCode, InferenceFaults.ForStatus(ex.StatusCode), ex.Message);
        }
        catch (BatchQueueFullException ex)
        {
            return Fail<TResponse>(call, versionTag, servedVersion, capture, started, StatusCodes.Status503ServiceUnavailable, InferenceFault.Rejected,
                ex.Message, overloaded: true);
        }
        catch (ScorerOverloadedException ex)
        {
            // The in-flight byte budget or the on-demand load slots: back-pressure a caller can provoke, never judged.
            return Fail<TResponse>(call, versionTag, servedVersion, capture, started, StatusCodes.Status503ServiceUnavailable, InferenceFault.Rejected,
                ex.Message, overloaded: true);
        }
        catch (VersionLoadException ex)
        {
            // Only a pinned version is known before it loads; a routed request's version is the registry's, not counted here.
            logger.LogWarning(ex, "Version {Version} of {Model} could not be loaded for a request", versionText, name);
            return Fail<TResponse>(call, versionText ?? "", versionText, capture, started, StatusCodes.Status503ServiceUnavailable, InferenceFault.Server, ex.Message);
        }
        // A run terminated because its request went away (RunOptions.Terminate) ends like any other cancelled call.
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            capture?.Dispose();
            metrics.Request(ModelTag(name, servedVersion), versionTag, "cancelled", InferenceFault.None, Stopwatch.GetElapsedTime(started));
            return InferOutcome<TResponse>.Failure(499, "The client went away.", fault: InferenceFault.None);
        }
        catch (OnnxRuntimeException ex)
        {
            // The request passed the signature check, so a failing run is the version's fault, not the client's: 500, a server error.
            logger.LogWarning(ex, "ONNX Runtime failed on a valid request to {Model} version {Version}", name, versionTag);
            return Fail<TResponse>(call, versionTag, servedVersion, capture, started, StatusCodes.Status500InternalServerError, InferenceFault.Server,
                $"The model failed on a valid request: {ex.Message}");
        }
        // The client went away, or shutdown aborted the connection after the drain time (the token may not be signalled yet then).
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested || ex.InnerException is ConnectionAbortedException)
        {
            capture?.Dispose();
            metrics.Request(ModelTag(name, servedVersion), versionTag, "cancelled", InferenceFault.None, Stopwatch.GetElapsedTime(started));
            return InferOutcome<TResponse>.Failure(499, "The client went away.", fault: InferenceFault.None);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Inference on {Model} version {Version} failed", name, versionTag);
            return Fail<TResponse>(call, versionTag, servedVersion, capture, started, StatusCodes.Status500InternalServerError, InferenceFault.Server,
                $"Inference failed: {ex.Message}");
        }
    }

    /// <summary>The model tag of failures for a name the registry does not know (unknown models, invalid names).</summary>
    public const string UnknownModelTag = "(unknown)";

    // Metric tags come from the client's URL: a model the registry never named is counted under one tag, so a reader sending made-up
    // names cannot create series without end in every scraper.
    private string ModelTag(string model, string? servedVersion) =>
        servedVersion is not null || repository.Knows(model) ? model : UnknownModelTag;

    private InferOutcome<TResponse> Fail<TResponse>(InferCall call, string version, string? servedVersion, PayloadCapture? capture, long started,
        int status, InferenceFault fault, string message, bool overloaded = false)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        payloads.Failed(capture, status, fault, message, elapsed);
        if (servedVersion is not null)
        {
            fleet.Record(call.Model, servedVersion, fault, call.Route == InferRoute.Routed, elapsed);
            statistics.Failure(call.Model, servedVersion, elapsed);
        }
        var outcome = status switch
        {
            StatusCodes.Status503ServiceUnavailable => "unavailable",
            >= 500 => "error",
            StatusCodes.Status404NotFound => "not_found",
            StatusCodes.Status413PayloadTooLarge => "too_large",
            StatusCodes.Status429TooManyRequests => "too_many",
            _ => "bad_request",
        };
        metrics.Request(ModelTag(call.Model, servedVersion), version, outcome, fault, elapsed);
        return InferOutcome<TResponse>.Failure(status, message,
            status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status429TooManyRequests ? batching.Value.RetryAfterSeconds : null,
            fault, overloaded);
    }

    /// <summary>Where a run's time went, and this request's share of the model executions (a dynamic batch is one execution).</summary>
    private readonly record struct RunTimings(TimeSpan Queue, TimeSpan Compute, double Executions);

    private static long Rows(IReadOnlyList<TensorBuffer> inputs, LoadedVersion loaded) =>
        loaded.Signature.IsBatchable && inputs.Count > 0 && inputs[0].Shape.Length > 0 ? inputs[0].Shape[0] : 1;

    /// <param name="shadowCopy">
    /// A shadow copy runs on the session directly, outside the run slots and the batcher, so it never holds a slot or a place in a batch
    /// that production needs (the shadow worker bounds the copies and starts them only when production leaves room).
    /// </param>
    private async ValueTask<(TensorBuffer[] Outputs, RunTimings Timings)> RunAsync(LoadedVersion loaded, IReadOnlyList<TensorBuffer> inputs,
        IReadOnlyList<string> outputNames, bool shadowCopy, CancellationToken cancellationToken)
    {
        if (shadowCopy || !loaded.BatchingEnabled || loaded.Batcher is not { } batcher)
        {
            if (!shadowCopy)
            {
                await _runSlots.WaitAsync(cancellationToken);
            }
            TensorBuffer[] direct;
            var computeStarted = Stopwatch.GetTimestamp();
            try
            {
                direct = loaded.Session.Run(inputs, outputNames, cancellationToken);
            }
            finally
            {
                if (!shadowCopy)
                {
                    _runSlots.Release();
                }
            }
            var compute = Stopwatch.GetElapsedTime(computeStarted);
            metrics.Batch(loaded.Model, loaded.VersionText, TimeSpan.Zero, compute,
                inputs.Count > 0 && inputs[0].Shape.Length > 0 ? inputs[0].Shape[0] : 1);
            return (direct, new RunTimings(TimeSpan.Zero, compute, 1));
        }

        var result = await batcher.RunAsync(inputs, cancellationToken);
        metrics.Batch(loaded.Model, loaded.VersionText, result.QueueTime, result.ComputeTime, result.BatchRows);
        var timings = new RunTimings(result.QueueTime, result.ComputeTime, result.BatchRows > 0 ? (double)Rows(inputs, loaded) / result.BatchRows : 1);
        var all = result.Outputs;
        if (ReferenceEquals(outputNames, loaded.Session.OutputNames))
        {
            return (all, timings);
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
        return (selected, timings);
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
}
