using System.Globalization;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>One measured subject of a quality alert rule; a null value says too little data to judge.</summary>
public sealed record QualityObservation(string Subject, string Model, int Version, double? Value, Dictionary<string, string> Links);

/// <summary>
/// What the quality alert rules watch, per model with a payload log: <c>accuracy-drop</c> (baseline accuracy minus the version's, for
/// production and canary, with at least the rule's minimum of labelled requests on both sides), <c>drift</c> (the largest PSI of
/// production and canary, with at least the minimum of live requests) and <c>shadow-disagreement</c> (1 − agreement of the shadow
/// version, with at least the minimum of compared requests).
/// </summary>
public sealed class QualityAlerts(ModelStore models, ServingStore serving, QualityService quality)
{
    public const string AccuracyDrop = "accuracy-drop";
    public const string Drift = "drift";
    public const string ShadowDisagreement = "shadow-disagreement";

    public async Task<List<QualityObservation>> ObserveAsync(string kind, string? model, TimeSpan window, long minimum, CancellationToken cancellationToken)
    {
        var names = string.IsNullOrEmpty(model)
            ? (await models.ListModelsAsync(0, 500, null, null, cancellationToken)).Items.Select(m => m.Name).ToList()
            : [model];
        var observations = new List<QualityObservation>();
        var span = DurationText.Format(window);
        foreach (var name in names)
        {
            var details = await models.GetModelAsync(name, cancellationToken);
            var settings = (await serving.GetServingAsync(name, cancellationToken)).Value;
            if (details is null || settings?.PayloadLog is not { Enabled: true })
            {
                continue;
            }
            var aliases = kind == ShadowDisagreement ? [AliasNames.Shadow] : new[] { AliasNames.Production, AliasNames.Canary };
            foreach (var version in details.Aliases.Where(a => aliases.Contains(a.Name)).Select(a => a.Version).Distinct())
            {
                var path = $"/v1/models/{name}/versions/{version.ToString(CultureInfo.InvariantCulture)}";
                double? value = null;
                string link;
                switch (kind)
                {
                    case AccuracyDrop:
                        link = $"{path}/quality?window={span}";
                        if (settings.Quality?.Task == QualitySettings.Classification
                            && (await quality.GetAsync(name, version, window, cancellationToken)).Report is { Baseline: { } baseline } report
                            && report.Figures.Labelled >= minimum && baseline.Labelled >= minimum
                            && report.Figures.Accuracy is { } accuracy && baseline.Accuracy is { } reference)
                        {
                            value = Math.Round(reference - accuracy, 6);
                        }
                        break;
                    case Drift:
                        link = $"{path}/drift?window={span}";
                        if ((await quality.GetDriftAsync(name, version, window, cancellationToken)).Report is { } drift && drift.LiveRecords >= minimum)
                        {
                            value = drift.MaxPsi is { } psi ? Math.Round(psi, 6) : null;
                        }
                        break;
                    default:
                        link = $"{path}/shadow?window={span}";
                        if ((await quality.GetShadowAsync(name, version, window, cancellationToken)).Report is { } shadow && shadow.Compared >= minimum
                            && shadow.Agreement is { } agreement)
                        {
                            value = Math.Round(1 - agreement, 6);
                        }
                        break;
                }
                observations.Add(new QualityObservation($"{name}/{version}", name, version, value, new Dictionary<string, string> { [kind] = link }));
            }
        }
        return observations;
    }
}
