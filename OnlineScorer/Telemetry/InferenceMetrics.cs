using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MlPlatform.OnlineScorer.Telemetry;

/// <summary>The scorer's instruments on the <c>MlPlatform.Inference</c> meter and its activity source.</summary>
public sealed class InferenceMetrics
{
    /// <summary>The meter and activity source name.</summary>
    public const string Name = PlatformTelemetry.InferenceMeter;

    /// <summary>Activities for inference (tagged with model and version).</summary>
    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _queueTime;
    private readonly Histogram<double> _computeTime;
    private readonly Histogram<long> _batchSize;
    private readonly Counter<long> _cacheHits;
    private readonly Counter<long> _cacheMisses;
    private readonly Counter<long> _loadFailures;

    public InferenceMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        _requests = meter.CreateCounter<long>("mlplatform.inference.requests", "{request}", "Infer requests by model, version, outcome and fault (none, client, server, rejected).");
        _duration = meter.CreateHistogram<double>("mlplatform.inference.request.duration", "s", "Infer server latency: end of the body read to response written (a slow upload never counts).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        _queueTime = meter.CreateHistogram<double>("mlplatform.inference.queue.duration", "s", "Time a request waited in the batching queue.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5] });
        _computeTime = meter.CreateHistogram<double>("mlplatform.inference.compute.duration", "s", "Time of the ONNX Runtime run that served a request.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5] });
        _batchSize = meter.CreateHistogram<long>("mlplatform.inference.batch.size", "{row}", "Rows in the run that served a request.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _cacheHits = meter.CreateCounter<long>("mlplatform.inference.cache.hits", "{request}", "Responses served from the response cache.");
        _cacheMisses = meter.CreateCounter<long>("mlplatform.inference.cache.misses", "{request}", "Cacheable requests not found in the response cache.");
        _loadFailures = meter.CreateCounter<long>("mlplatform.inference.load.failures", "{load}", "Model versions that failed to load.");
        meter.CreateObservableGauge("mlplatform.inference.loaded_versions", () => LoadedVersions, "{version}", "Model versions loaded in this scorer.");
    }

    /// <summary>Set by the repository; observed by the gauge.</summary>
    public int LoadedVersions { get; set; }

    public void Request(string model, string version, string outcome, InferenceFault fault, TimeSpan duration)
    {
        var tags = new TagList { { "model", model }, { "version", version }, { "outcome", outcome }, { "fault", fault.Tag() } };
        _requests.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }

    public void Batch(string model, string version, TimeSpan queue, TimeSpan compute, long rows)
    {
        var tags = new TagList { { "model", model }, { "version", version } };
        _queueTime.Record(queue.TotalSeconds, tags);
        _computeTime.Record(compute.TotalSeconds, tags);
        _batchSize.Record(rows, tags);
    }

    public void CacheHit(string model) => _cacheHits.Add(1, new KeyValuePair<string, object?>("model", model));

    public void CacheMiss(string model) => _cacheMisses.Add(1, new KeyValuePair<string, object?>("model", model));

    public void LoadFailed(string model, int version) =>
        _loadFailures.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("version", version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}
