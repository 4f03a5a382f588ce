namespace MlPlatform.Contracts;

/// <summary>
/// A version's statistics over a window, summed across every scorer replica. <see cref="Requests"/> counts every answered request;
/// <see cref="Errors"/> only server errors (the version's own failures), beside <see cref="ClientErrors"/> and <see cref="Rejected"/>.
/// <see cref="ErrorRate"/> is server errors over the requests the version handled (successes and server errors); p50/p99 are server
/// latency (end of the body read to response written) of those requests. <see cref="RoutedRequests"/>, <see cref="RoutedErrorRate"/>
/// and <see cref="RoutedP99Ms"/> are the alias-routed part, the only traffic rollouts and the guard judge.
/// </summary>
public sealed record VersionStatsReport(
    string Model, int Version, string Window, DateTimeOffset From, DateTimeOffset To,
    long Requests, long Errors, double ErrorRate, double? P50Ms, double? P99Ms,
    long ClientErrors = 0, long Rejected = 0, long RoutedRequests = 0, long RoutedErrors = 0, double RoutedErrorRate = 0, double? RoutedP99Ms = null);
