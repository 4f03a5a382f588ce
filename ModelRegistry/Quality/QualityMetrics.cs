using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>
/// The last judged online quality per model version, as gauges on the <c>MlPlatform.Quality</c> meter: <c>mlplatform.quality.accuracy</c>
/// <c>mlplatform.quality.mae</c> and <c>mlplatform.quality.drift_psi</c>. Set whenever a version's quality is computed (the API, alerts, rollout gates).
/// </summary>
public sealed class QualityMetrics
{
    // Bounded by the registry's versions: only versions whose quality was computed are kept.
    private readonly ConcurrentDictionary<(string Model, int Version), QualityFigures> _last = new();

    public QualityMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(PlatformTelemetry.QualityMeter);
        meter.CreateObservableGauge("mlplatform.quality.accuracy", () => Observe(f => f.Accuracy), "1",
            "Share of labelled predictions that were right, per model version, over the last judged window.");
        meter.CreateObservableGauge("mlplatform.quality.mae", () => Observe(f => f.Mae), null,
            "Mean absolute error of labelled predictions, per model version, over the last judged window.");
        meter.CreateObservableGauge("mlplatform.quality.drift_psi", () => _drift.Select(d => new Measurement<double>(d.Value,
            new KeyValuePair<string, object?>("model", d.Key.Model), new KeyValuePair<string, object?>("version", d.Key.Version))), "1",
            "Largest population stability index over a version's input features, last judged window against its reference.");
    }

    private readonly ConcurrentDictionary<(string Model, int Version), double> _drift = new();

    public void Set(string model, int version, QualityFigures figures) => _last[(model, version)] = figures;

    /// <summary>Records the largest PSI over a version's features (gauge <c>mlplatform.quality.drift_psi</c>).</summary>
    public void SetDrift(string model, int version, double maxPsi) => _drift[(model, version)] = maxPsi;

    private IEnumerable<Measurement<double>> Observe(Func<QualityFigures, double?> pick)
    {
        foreach (var ((model, version), figures) in _last)
        {
            if (pick(figures) is { } value)
            {
                yield return new Measurement<double>(value, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("version", version));
            }
        }
    }
}
