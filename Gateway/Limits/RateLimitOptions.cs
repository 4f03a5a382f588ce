using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// Per-key token buckets and open-request limits, sized by the key's role, in front of the gateway's concurrency pools: one shared by
/// reader and operator keys, a reserved one for admin keys and <c>/v2/health</c> probes, and a small one for the other anonymous routes
/// (<c>/docs</c>). Rates are generous (thousands of requests per second per key) so that normal use and benchmarks never meet them; the
/// open-request limits keep one key from holding every slot. A request over a limit is answered 429 with <c>Retry-After</c>.
/// </summary>
public sealed class RateLimitOptions : IValidatableObject
{
    public const string SectionName = "RateLimits";

    /// <summary>The rate limiter policy routes name in <c>RateLimiterPolicy</c>.</summary>
    public const string PerKeyPolicy = "per-key";

    /// <summary>Bucket of each reader key.</summary>
    public TokenBucketSettings Reader { get; set; } = new();

    /// <summary>Bucket of each operator key.</summary>
    public TokenBucketSettings Operator { get; set; } = new();

    /// <summary>Bucket of each admin key.</summary>
    public TokenBucketSettings Admin { get; set; } = new();

    /// <summary>Requests forwarded at once for reader and operator keys together. Default 1024.</summary>
    [Range(1, 1_000_000)]
    public int ConcurrencyLimit { get; set; } = 1024;

    /// <summary>Requests waiting for a free slot when <see cref="ConcurrencyLimit"/> (or <see cref="ReservedConcurrencyLimit"/>) is reached; beyond it, 429. Default 4096.</summary>
    [Range(0, 1_000_000)]
    public int ConcurrencyQueueLimit { get; set; } = 4096;

    /// <summary>Requests at once in the pool reserved for admin keys and <c>/v2/health</c> probes, which the shared pool cannot starve. Default 64.</summary>
    [Range(1, 1_000_000)]
    public int ReservedConcurrencyLimit { get; set; } = 64;

    /// <summary>Requests at once on the other anonymous routes (<c>/docs</c>), all callers together. Default 8.</summary>
    [Range(1, 1_000_000)]
    public int AnonymousConcurrencyLimit { get; set; } = 8;

    /// <summary>Anonymous requests waiting for a slot; beyond it, 429. Default 16.</summary>
    [Range(0, 1_000_000)]
    public int AnonymousQueueLimit { get; set; } = 16;

    public TokenBucketSettings For(string role) => role switch
    {
        Auth.GatewayRoles.Reader => Reader,
        Auth.GatewayRoles.Operator => Operator,
        Auth.GatewayRoles.Admin => Admin,
        _ => throw new ArgumentException($"'{role}' is not a role.", nameof(role)),
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (role, bucket) in new[] { ("Reader", Reader), ("Operator", Operator), ("Admin", Admin) })
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(bucket, new ValidationContext(bucket), results, validateAllProperties: true);
            foreach (var result in results)
            {
                yield return new ValidationResult($"{SectionName}:{role}: {result.ErrorMessage}", [role]);
            }
        }
    }
}

/// <summary>
/// What one key of a role may use: a token bucket (a burst of <see cref="TokenLimit"/> requests, refilled by <see cref="TokensPerPeriod"/>
/// every <see cref="ReplenishmentPeriod"/>) and at most <see cref="ConcurrencyLimit"/> requests open at once.
/// </summary>
public sealed class TokenBucketSettings
{
    /// <summary>Requests one key may have open at once (slow uploads and downloads included); one more is answered 429. Default 64.</summary>
    [Range(1, 1_000_000)]
    public int ConcurrencyLimit { get; set; } = 64;

    /// <summary>Bucket size: the largest burst. Default 20000.</summary>
    [Range(1, int.MaxValue)]
    public int TokenLimit { get; set; } = 20_000;

    /// <summary>Tokens added each period. Default 10000 (10000 requests per second sustained).</summary>
    [Range(1, int.MaxValue)]
    public int TokensPerPeriod { get; set; } = 10_000;

    /// <summary>Refill period. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan ReplenishmentPeriod { get; set; } = TimeSpan.FromSeconds(1);
}
