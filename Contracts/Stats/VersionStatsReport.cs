namespace MlPlatform.Contracts;

/// <summary>A version's statistics over a window, summed across every scorer replica.</summary>
public sealed record VersionStatsReport(
    string Model, int Version, string Window, DateTimeOffset From, DateTimeOffset To,
    long Requests, long Errors, double ErrorRate, double? P50Ms, double? P99Ms);
