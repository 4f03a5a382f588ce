namespace MlPlatform.Inference.Fleet;

/// <summary>
/// A model version's statistics summed over a window: answered requests, server errors, client errors, rejected requests and server
/// latency bucket counts, for all traffic and (<see cref="Routed"/>) for the alias-routed part that rollouts and the guard judge.
/// </summary>
public sealed class VersionStats
{
    private readonly long[] _buckets = new long[FleetStatsLayout.BucketCount];
    private VersionStats? _routed;

    /// <summary>Every answered request, whatever its outcome.</summary>
    public long Requests { get; private set; }

    /// <summary>Server errors: the version failed a request that passed validation.</summary>
    public long Errors { get; private set; }

    /// <summary>Client errors: the request was wrong.</summary>
    public long ClientErrors { get; private set; }

    /// <summary>Requests refused by back-pressure.</summary>
    public long Rejected { get; private set; }

    /// <summary>Requests the version itself handled (successes and server errors): the ones an error rate and a latency are taken over.</summary>
    public long Judged => Math.Max(0, Requests - ClientErrors - Rejected);

    /// <summary>The alias-routed subset of these figures (requests to the model by name; pinned versions excluded).</summary>
    public VersionStats Routed => _routed ??= new VersionStats();

    /// <summary>Requests per server latency bucket (bounds in <see cref="FleetStatsLayout.LatencyBucketBoundsMs"/>).</summary>
    public ReadOnlySpan<long> Buckets => _buckets;

    /// <summary>
    /// Server errors over the requests the version handled (<see cref="Judged"/>); 0 without any. Client errors and rejections are left out
    /// of both sides, so a flood of malformed requests neither raises the rate nor dilutes a real one.
    /// </summary>
    public double ErrorRate => Judged == 0 ? 0 : (double)Errors / Judged;

    /// <summary>Adds one hash field of one second's key (unknown fields are ignored, so the layout can grow).</summary>
    public void Add(string field, long value)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (field.StartsWith(FleetStatsLayout.RoutedPrefix, StringComparison.Ordinal))
        {
            Routed.Add(field[FleetStatsLayout.RoutedPrefix.Length..], value);
        }
        else if (field == FleetStatsLayout.RequestsField)
        {
            Requests += value;
        }
        else if (field == FleetStatsLayout.ErrorsField)
        {
            Errors += value;
        }
        else if (field == FleetStatsLayout.ClientErrorsField)
        {
            ClientErrors += value;
        }
        else if (field == FleetStatsLayout.RejectedField)
        {
            Rejected += value;
        }
        else if (int.TryParse(field, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
            && index < _buckets.Length)
        {
            _buckets[index] += value;
        }
    }

    /// <summary>Records requests directly (used by tests and by callers that already hold counts).</summary>
    public void Add(long requests, long errors, ReadOnlySpan<long> buckets)
    {
        Requests += requests;
        Errors += errors;
        for (var i = 0; i < Math.Min(buckets.Length, _buckets.Length); i++)
        {
            _buckets[i] += buckets[i];
        }
    }

    /// <summary>
    /// The latency below which <paramref name="quantile"/> of the requests fell, in milliseconds, interpolated linearly inside its bucket
    /// (the first bucket starts at 0; the unbounded last bucket reports its lower bound); null without requests.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quantile"/> is not in (0, 1].</exception>
    public double? PercentileMs(double quantile)
    {
        if (quantile is <= 0 or > 1 || double.IsNaN(quantile))
        {
            throw new ArgumentOutOfRangeException(nameof(quantile), quantile, "A quantile is in (0, 1].");
        }
        return Percentile(_buckets, quantile);
    }

    /// <summary>The <paramref name="quantile"/> of the distribution given by bucket counts; null when they are all zero.</summary>
    public static double? Percentile(ReadOnlySpan<long> buckets, double quantile)
    {
        long total = 0;
        foreach (var count in buckets)
        {
            total += count;
        }
        if (total == 0)
        {
            return null;
        }
        var bounds = FleetStatsLayout.LatencyBucketBoundsMs;
        var rank = quantile * total;
        long seen = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            if (buckets[i] == 0)
            {
                continue;
            }
            if (seen + buckets[i] >= rank)
            {
                if (i >= bounds.Length)
                {
                    return bounds[^1];
                }
                var lower = i == 0 ? 0 : bounds[i - 1];
                var fraction = (rank - seen) / buckets[i];
                return lower + (bounds[i] - lower) * fraction;
            }
            seen += buckets[i];
        }
        return bounds[^1];
    }
}
