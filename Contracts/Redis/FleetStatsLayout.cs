using System.Globalization;

namespace MlPlatform.Contracts;

/// <summary>
/// How the scorers' per-version statistics are laid out in Redis, shared by the writers (every OnlineScorer replica) and the readers
/// (the registry's stats API, rollouts, guard and alerts). One hash per model version and UTC second,
/// <c>mlplatform:stats:{model}:{version}:{unix second}</c>, with fields <c>n</c> (answered requests), <c>e</c> (server errors),
/// <c>c</c> (client errors), <c>x</c> (rejected by back-pressure) and <c>0</c>…<c>13</c> (server latency bucket counts of the successes and
/// server errors, upper bounds in <see cref="LatencyBucketBoundsMs"/>, the last one unbounded). The same fields prefixed with <c>r:</c>
/// (<see cref="RoutedPrefix"/>) count the subset routed by alias (requests to the model by name), the only traffic rollouts and the guard
/// judge; requests that pin a version are in the plain fields only. Replicas add with HINCRBY, so one read of a window sums the whole
/// fleet; readers ignore fields they do not know, so the layout can grow (more route kinds, more series).
/// </summary>
public static class FleetStatsLayout
{
    /// <summary>Prefix of every statistics key.</summary>
    public const string KeyPrefix = "mlplatform:stats:";

    /// <summary>
    /// Prefix of the per-minute keys, <c>mlplatform:stats-1m:{model}:{version}:{unix minute}</c>: the same fields as a second's hash,
    /// written alongside it by every replica and kept longer (<see cref="FleetStatsOptions.MinuteRetentionSeconds"/>), for series over hours.
    /// </summary>
    public const string MinuteKeyPrefix = "mlplatform:stats-1m:";

    /// <summary>Prefix of the scorers' readiness heartbeats: <c>mlplatform:scorers:{instance}</c> = <see cref="Ready"/> or <see cref="NotReady"/>, with a short TTL.</summary>
    public const string ScorerHeartbeatPrefix = "mlplatform:scorers:";

    /// <summary>
    /// Sorted set of the scorer instances that have sent a heartbeat, scored by the last one (unix milliseconds). A replica that stops
    /// removes itself; one that dies stays here after its heartbeat key expired, which is how a crashed replica is told from a removed one.
    /// </summary>
    public const string ScorerFleetKey = "mlplatform:scorer-fleet";

    public const string Ready = "ready";
    public const string NotReady = "not-ready";

    /// <summary>Field with the number of requests.</summary>
    public const string RequestsField = "n";

    /// <summary>Field with the number of server errors (<see cref="InferenceFault.Server"/>): the version's own failures.</summary>
    public const string ErrorsField = "e";

    /// <summary>Field with the number of client errors (<see cref="InferenceFault.Client"/>): the request was wrong.</summary>
    public const string ClientErrorsField = "c";

    /// <summary>Field with the number of requests refused by back-pressure (<see cref="InferenceFault.Rejected"/>).</summary>
    public const string RejectedField = "x";

    /// <summary>Prefix of the fields that count only alias-routed requests (<c>r:n</c>, <c>r:e</c>, <c>r:0</c>…).</summary>
    public const string RoutedPrefix = "r:";

    /// <summary>
    /// The counters of a statistics hash by the name the APIs show them under (series points' <c>counts</c>, named as the stats report's
    /// fields): requests, server errors, client errors, rejected. A new counter is one more entry here and one more field the recorder
    /// writes; readers of series pick it up without other changes.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, string Field)> Counters =
        [("requests", RequestsField), ("errors", ErrorsField), ("clientErrors", ClientErrorsField), ("rejected", RejectedField)];

    /// <summary>Upper bounds (inclusive, milliseconds) of the latency buckets; one more bucket takes everything slower.</summary>
    public static readonly double[] LatencyBucketBoundsMs = [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    /// <summary>Number of latency buckets, the unbounded one included.</summary>
    public static int BucketCount => LatencyBucketBoundsMs.Length + 1;

    /// <summary>Hash field names of the latency buckets, index by index (allocated once).</summary>
    public static readonly string[] BucketFields = Enumerable.Range(0, LatencyBucketBoundsMs.Length + 1)
        .Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The key of one model version's statistics for one UTC second.</summary>
    public static string KeyFor(string model, string version, long unixSecond)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(version);
        return string.Create(CultureInfo.InvariantCulture, $"{KeyPrefix}{model}:{version}:{unixSecond}");
    }

    /// <summary>The key of one model version's statistics for one UTC minute (<paramref name="unixMinute"/> = Unix seconds / 60).</summary>
    public static string MinuteKeyFor(string model, string version, long unixMinute)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(version);
        return string.Create(CultureInfo.InvariantCulture, $"{MinuteKeyPrefix}{model}:{version}:{unixMinute}");
    }

    /// <summary>The bucket a request that took <paramref name="milliseconds"/> falls into.</summary>
    public static int BucketIndex(double milliseconds)
    {
        var bounds = LatencyBucketBoundsMs;
        for (var i = 0; i < bounds.Length; i++)
        {
            if (milliseconds <= bounds[i])
            {
                return i;
            }
        }
        return bounds.Length;
    }
}
