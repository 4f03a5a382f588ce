using System.Globalization;
using Microsoft.Extensions.Options;
using MlPlatform.ModelRegistry.Quality;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>
/// Judges the quality gates of a rollout step or a guard window from the payload log and the labels. A gate measured on too little
/// data is <see cref="GateResult.Inconclusive"/>: labels may arrive days later, so unlike the error and latency verdict it never holds
/// a step; only a <see cref="GateResult.Fail"/> acts (a rollback).
/// </summary>
public sealed class QualityGateJudge(QualityService quality, ServingStore serving, IOptions<QualityOptions> options)
{
    /// <summary>
    /// The gates' results for <paramref name="version"/> over <paramref name="from"/>..<paramref name="to"/> (drift and shadow: the same
    /// length of window ending at <paramref name="to"/>), accuracy against <paramref name="baseline"/> over <paramref name="baselineSpan"/>;
    /// null when the rollout has no gates. Accuracy and drift judge only the records <paramref name="version"/> served on
    /// <paramref name="route"/> (a rollout's canary, the guard's production) and the baseline's production ones: shadow copies (which
    /// carry production's request ids, so production's labels) and pinned requests are never judged.
    /// </summary>
    public async Task<IReadOnlyList<GateResult>?> JudgeAsync(string model, int version, string route, QualityGates? gates, DateTimeOffset from, DateTimeOffset to,
        int? baseline, (DateTimeOffset From, DateTimeOffset To) baselineSpan, CancellationToken cancellationToken)
    {
        if (gates is not { Any: true })
        {
            return null;
        }
        var settings = options.Value;
        var window = to - from < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : to - from;
        var results = new List<GateResult>();
        if (gates.AccuracyDropMax is { } maxDrop)
        {
            var task = (await serving.GetServingAsync(model, cancellationToken)).Value?.Quality;
            if (task is not { Task: QualitySettings.Classification })
            {
                results.Add(GateRules.Inconclusive(QualityGates.AccuracyDrop, maxDrop, 0, "the model has no classification quality settings"));
            }
            else if (baseline is not { } b)
            {
                results.Add(GateRules.Inconclusive(QualityGates.AccuracyDrop, maxDrop, 0, "there is no baseline version to compare with"));
            }
            else
            {
                var candidate = await quality.FiguresAsync(model, version, task, from, to, cancellationToken, route);
                var reference = await quality.FiguresAsync(model, b, task, baselineSpan.From, baselineSpan.To, cancellationToken, PayloadRoutes.Production);
                results.Add(GateRules.Accuracy(maxDrop, candidate, b, reference, settings.GateMinLabelled));
            }
        }
        if (gates.DriftPsiMax is { } maxPsi)
        {
            var (drift, _) = await quality.GetDriftAsync(model, version, window, cancellationToken, route);
            results.Add(GateRules.Drift(maxPsi, drift?.MaxPsi, drift?.LiveRecords ?? 0, settings.GateMinRequests));
        }
        if (gates.ShadowAgreementMin is { } minAgreement)
        {
            var (shadow, refusal) = await quality.GetShadowAsync(model, version, window, cancellationToken);
            results.Add(shadow is null
                ? GateRules.Inconclusive(QualityGates.ShadowAgreement, minAgreement, 0, refusal?.Detail ?? "no shadow report")
                : GateRules.Shadow(minAgreement, shadow.Agreement, shadow.Compared, settings.GateMinRequests));
        }
        return results;
    }
}

/// <summary>The judgement of each gate on its measured figures; pure, so it is unit-tested on its own.</summary>
public static class GateRules
{
    public static GateResult Accuracy(double maxDrop, QualityFigures candidate, int baselineVersion, QualityFigures baseline, int minLabelled)
    {
        const string gate = QualityGates.AccuracyDrop;
        var labelled = Math.Min(candidate.Labelled, baseline.Labelled);
        if (candidate.Labelled < minLabelled || baseline.Labelled < minLabelled || candidate.Accuracy is not { } accuracy
            || baseline.Accuracy is not { } reference)
        {
            return Inconclusive(gate, maxDrop, labelled, Format(
                $"{candidate.Labelled} labelled rows of the version and {baseline.Labelled} of version {baselineVersion}, fewer than the {minLabelled} needed on each side"));
        }
        var drop = Math.Round(reference - accuracy, 6);
        var figures = Format(
            $"accuracy drop {drop:0.###} (version {baselineVersion}'s accuracy {reference:0.###} on {baseline.Labelled} labelled rows, this version's {accuracy:0.###} on {candidate.Labelled})");
        return drop > maxDrop
            ? new GateResult(gate, GateResult.Fail, drop, maxDrop, labelled, Format($"{figures} exceeds {maxDrop:0.###}"))
            : new GateResult(gate, GateResult.Pass, drop, maxDrop, labelled, Format($"{figures} is within {maxDrop:0.###}"));
    }

    public static GateResult Drift(double maxPsi, double? psi, int liveRecords, int minRequests)
    {
        const string gate = QualityGates.DriftPsi;
        if (liveRecords < minRequests || psi is not { } value)
        {
            return Inconclusive(gate, maxPsi, liveRecords, Format(
                $"{liveRecords} live requests after a complete drift reference, fewer than the {minRequests} needed"));
        }
        var rounded = Math.Round(value, 6);
        return rounded > maxPsi
            ? new GateResult(gate, GateResult.Fail, rounded, maxPsi, liveRecords, Format($"input drift PSI {rounded:0.###} over {liveRecords} requests exceeds {maxPsi:0.###}"))
            : new GateResult(gate, GateResult.Pass, rounded, maxPsi, liveRecords, Format($"input drift PSI {rounded:0.###} over {liveRecords} requests is within {maxPsi:0.###}"));
    }

    public static GateResult Shadow(double minAgreement, double? agreement, int compared, int minRequests)
    {
        const string gate = QualityGates.ShadowAgreement;
        if (compared < minRequests || agreement is not { } value)
        {
            return Inconclusive(gate, minAgreement, compared, Format(
                $"{compared} shadow requests compared with production{(agreement is null && compared > 0 ? " (no classification quality settings)" : "")}, fewer than the {minRequests} needed"));
        }
        var rounded = Math.Round(value, 6);
        return rounded < minAgreement
            ? new GateResult(gate, GateResult.Fail, rounded, minAgreement, compared, Format($"shadow agreement {rounded:0.###} on {compared} requests is below {minAgreement:0.###}"))
            : new GateResult(gate, GateResult.Pass, rounded, minAgreement, compared, Format($"shadow agreement {rounded:0.###} on {compared} requests is at least {minAgreement:0.###}"));
    }

    public static GateResult Inconclusive(string gate, double threshold, long count, string why) =>
        new(gate, GateResult.Inconclusive, null, threshold, count, why);

    /// <summary>The first failed gate as a breach reason (<c>quality gate accuracyDropMax failed: …</c>), or null.</summary>
    public static GateResult? FirstFailure(IReadOnlyList<GateResult>? results) => results?.FirstOrDefault(r => r.Result == GateResult.Fail);

    public static string Reason(GateResult failed) => $"quality gate {failed.Gate} failed: {failed.Detail}";

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
