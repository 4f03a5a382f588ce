using System.Globalization;

namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>What the figures of a window say about the version under analysis.</summary>
public enum Verdict
{
    /// <summary>Within thresholds (or no worse than the baseline by the margins) on enough requests.</summary>
    Healthy,
    /// <summary>Too few requests to judge.</summary>
    Inconclusive,
    /// <summary>Server-error rate or p99 over its absolute threshold and over the baseline by its margin, on enough requests.</summary>
    Breach,
}

/// <summary>
/// Thresholds an analysis applies. A breach needs both the absolute threshold and the margin over the baseline: server-error rate over
/// <see cref="MaxErrorRate"/> and at least baseline + <see cref="ErrorRateMargin"/>; p99 over <see cref="MaxP99Ms"/> and at least baseline
/// p99 × <see cref="P99Factor"/>.
/// </summary>
public sealed record AnalysisThresholds(double MaxErrorRate, double MaxP99Ms, long MinRequests, double ErrorRateMargin = 0, double P99Factor = 1);

/// <summary>Figures of one version over one window: the requests it handled (successes and server errors), its server errors and p99 server latency.</summary>
public readonly record struct WindowFigures(long Requests, long Errors, double? P99Ms)
{
    public double ErrorRate => Requests == 0 ? 0 : (double)Errors / Requests;
}

/// <summary>The judgement shared by rollouts and the guard; pure, so it is unit-tested on its own.</summary>
public static class AnalysisRules
{
    /// <summary>
    /// Judges <paramref name="candidate"/> against <paramref name="baseline"/> (production in the same windows for a canary; the previous
    /// production version before the promotion for the guard). Fewer than <see cref="AnalysisThresholds.MinRequests"/> requests judge nothing.
    /// A baseline with fewer requests than that is no baseline: the absolute thresholds alone decide. Over an absolute threshold but within the
    /// margin of the baseline is no breach: what slows or fails production as much (a loaded machine, a shared dependency) is not the candidate's fault.
    /// </summary>
    public static (Verdict Verdict, string Reason) Judge(WindowFigures candidate, WindowFigures? baseline, AnalysisThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        if (candidate.Requests < thresholds.MinRequests)
        {
            return (Verdict.Inconclusive, Format($"{candidate.Requests} requests, fewer than the {thresholds.MinRequests} needed to judge"));
        }
        var usable = baseline is { } b && b.Requests >= thresholds.MinRequests ? b : (WindowFigures?)null;
        var excused = new List<string>();
        var rate = candidate.ErrorRate;
        if (rate > thresholds.MaxErrorRate)
        {
            if (usable is { } u && rate < u.ErrorRate + thresholds.ErrorRateMargin)
            {
                excused.Add(Format(
                    $"error rate {rate:0.####} over {thresholds.MaxErrorRate:0.####}, but within {thresholds.ErrorRateMargin:0.####} of the baseline's {u.ErrorRate:0.####} on {u.Requests} requests"));
            }
            else
            {
                var production = baseline is { Requests: > 0 } p ? Format($"; production {p.ErrorRate:0.####} on {p.Requests} requests") : "";
                return (Verdict.Breach, Format(
                    $"error rate {rate:0.####} ({candidate.Errors} of {candidate.Requests} requests) exceeds {thresholds.MaxErrorRate:0.####}{production}"));
            }
        }
        if (candidate.P99Ms is { } p99 && p99 > thresholds.MaxP99Ms)
        {
            if (usable is { P99Ms: { } baseP99 } && p99 < baseP99 * thresholds.P99Factor)
            {
                excused.Add(Format(
                    $"p99 {p99:0.###} ms over {thresholds.MaxP99Ms:0.###} ms, but under {thresholds.P99Factor:0.##} × the baseline's {baseP99:0.###} ms"));
            }
            else
            {
                var production = baseline is { P99Ms: { } bp } ? Format($"; production {bp:0.###} ms") : "";
                return (Verdict.Breach, Format($"p99 {p99:0.###} ms over {candidate.Requests} requests exceeds {thresholds.MaxP99Ms:0.###} ms{production}"));
            }
        }
        return excused.Count > 0
            ? (Verdict.Healthy, string.Join("; ", excused))
            : (Verdict.Healthy, Format(
                $"error rate {rate:0.####} and p99 {candidate.P99Ms ?? 0:0.###} ms over {candidate.Requests} requests are within thresholds"));
    }

    /// <summary>The analysis entry of a window: its figures rounded as reasons print them, the decision and the gates' results.</summary>
    public static RolloutAnalysis Record(DateTimeOffset at, int step, int? weight, string window, WindowFigures candidate, WindowFigures? baseline,
        string decision, string reason, IReadOnlyList<GateResult>? gateResults) =>
        new(at, step, weight, window, candidate.Requests, candidate.Errors, Math.Round(candidate.ErrorRate, 6),
            // p99 rounded as the reason's "0.###" formats it (half away from zero), so the figure and the reason agree.
            candidate.P99Ms is { } p ? Math.Round(p, 3, MidpointRounding.AwayFromZero) : null, baseline?.Requests ?? 0,
            Math.Round(baseline?.ErrorRate ?? 0, 6), decision, reason, gateResults);

    /// <summary>What an error or latency failure's alert reports: the p99 when only it was over its threshold, else the error rate.</summary>
    public static (double Value, double Threshold) AlertFigures(WindowFigures figures, Rollout rollout) =>
        figures.ErrorRate <= rollout.MaxErrorRate && figures.P99Ms > rollout.MaxP99Ms
            ? (figures.P99Ms ?? 0, rollout.MaxP99Ms)
            : (Math.Round(figures.ErrorRate, 6), rollout.MaxErrorRate);

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
