using System.Globalization;

namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>What the figures of a window say about the version under analysis.</summary>
public enum Verdict
{
    /// <summary>Within thresholds on enough requests.</summary>
    Healthy,
    /// <summary>Too few requests to judge.</summary>
    Inconclusive,
    /// <summary>Error rate or p99 over its threshold on enough requests.</summary>
    Breach,
}

/// <summary>Thresholds an analysis applies.</summary>
public sealed record AnalysisThresholds(double MaxErrorRate, double MaxP99Ms, long MinRequests);

/// <summary>Figures of one version over one window.</summary>
public readonly record struct WindowFigures(long Requests, long Errors, double? P99Ms)
{
    public double ErrorRate => Requests == 0 ? 0 : (double)Errors / Requests;
}

/// <summary>The judgement shared by rollouts and the guard; pure, so it is unit-tested on its own.</summary>
public static class AnalysisRules
{
    /// <summary>
    /// Judges <paramref name="candidate"/>. Fewer than <see cref="AnalysisThresholds.MinRequests"/> requests judge nothing. An error rate over the
    /// threshold is a breach unless the baseline (production over the same window, when it had enough requests itself) fails as often: then the
    /// errors are the clients' or the platform's, not the candidate's. A p99 over the threshold is a breach.
    /// </summary>
    public static (Verdict Verdict, string Reason) Judge(WindowFigures candidate, WindowFigures? baseline, AnalysisThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        if (candidate.Requests < thresholds.MinRequests)
        {
            return (Verdict.Inconclusive, Format($"{candidate.Requests} requests, fewer than the {thresholds.MinRequests} needed to judge"));
        }
        var rate = candidate.ErrorRate;
        if (rate > thresholds.MaxErrorRate)
        {
            if (baseline is { } b && b.Requests >= thresholds.MinRequests && b.ErrorRate >= rate)
            {
                return (Verdict.Inconclusive, Format(
                    $"error rate {rate:0.####} over {thresholds.MaxErrorRate:0.####}, but production fails as often ({b.ErrorRate:0.####} on {b.Requests} requests)"));
            }
            var production = baseline is { Requests: > 0 } p ? Format($"; production {p.ErrorRate:0.####} on {p.Requests} requests") : "";
            return (Verdict.Breach, Format(
                $"error rate {rate:0.####} ({candidate.Errors} of {candidate.Requests} requests) exceeds {thresholds.MaxErrorRate:0.####}{production}"));
        }
        if (candidate.P99Ms is { } p99 && p99 > thresholds.MaxP99Ms)
        {
            return (Verdict.Breach, Format($"p99 {p99:0.###} ms over {candidate.Requests} requests exceeds {thresholds.MaxP99Ms:0.###} ms"));
        }
        return (Verdict.Healthy, Format(
            $"error rate {rate:0.####} and p99 {candidate.P99Ms ?? 0:0.###} ms over {candidate.Requests} requests are within thresholds"));
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
