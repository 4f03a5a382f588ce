namespace MlPlatform.Contracts;

/// <summary>
/// A version's statistics over a window, one point per step, summed across every scorer replica (<c>/stats/series</c>).
/// <see cref="Counters"/> names the entries of every point's <see cref="SeriesPoint.Counts"/> (<c>requests</c>, <c>errors</c>: server errors,
/// <c>clientErrors</c>, <c>rejected</c>: the outcome classes, as in <see cref="VersionStatsReport"/>).
/// </summary>
public sealed record VersionStatsSeries(
    string Model, int Version, string Window, string Step, DateTimeOffset From, DateTimeOffset To,
    IReadOnlyList<string> Counters, IReadOnlyList<SeriesPoint> Points);

/// <summary>
/// One step of a series, starting at <see cref="At"/> and covering <see cref="Seconds"/> (less than the step for the current one).
/// Rates and percentiles are null where there was no request.
/// </summary>
public sealed record SeriesPoint(
    DateTimeOffset At, int Seconds, IReadOnlyDictionary<string, long> Counts, double RequestsPerSecond, double? ErrorRate, double? P50Ms, double? P99Ms);
