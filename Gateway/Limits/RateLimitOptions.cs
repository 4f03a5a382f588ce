using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// Per-key token buckets, sized by the key's role, and one concurrency limit over everything the gateway forwards.
/// Defaults are generous (thousands of requests per second per key) so that normal use and benchmarks never meet them.
/// A request over a limit is answered 429 with <c>Retry-After</c>.
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

    /// <summary>Requests forwarded at once, all keys together. Default 1024.</summary>
    [Range(1, 1_000_000)]
    public int ConcurrencyLimit { get; set; } = 1024;

    /// <summary>Requests waiting for a free slot when <see cref="ConcurrencyLimit"/> is reached; beyond it, 429. Default 4096.</summary>
    [Range(0, 1_000_000)]
    public int ConcurrencyQueueLimit { get; set; } = 4096;

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

/// <summary>A token bucket: a burst of <see cref="TokenLimit"/> requests, refilled by <see cref="TokensPerPeriod"/> every <see cref="ReplenishmentPeriod"/>.</summary>
public sealed class TokenBucketSettings
{
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
