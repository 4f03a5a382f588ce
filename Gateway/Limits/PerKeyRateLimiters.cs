using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// The token bucket of each API key (sized by its role, <see cref="RateLimitOptions"/>), one per key for the whole gateway: the
/// <c>per-key</c> rate limiter policy charges a request to it, and <see cref="StreamMessageLimitMiddleware"/> charges every message of a
/// <c>ModelStreamInfer</c> stream to the same bucket, so a stream cannot get around the rate a key has for unary calls.
/// </summary>
public sealed class PerKeyRateLimiters(IOptions<RateLimitOptions> options) : IDisposable
{
    // Bounded by the configured keys (sessions carry the key id they signed in with).
    private readonly ConcurrentDictionary<string, TokenBucketRateLimiter> _buckets = new(StringComparer.Ordinal);

    /// <summary>The bucket of <paramref name="keyId"/>, for the rate limiting middleware: disposing the wrapper leaves the bucket alone.</summary>
    public RateLimiter For(string keyId, string role) => new SharedLimiter(Bucket(keyId, role));

    /// <summary>Takes one token of <paramref name="keyId"/>'s bucket; the lease says whether it was granted and, if not, when to retry.</summary>
    public RateLimitLease AttemptAcquire(string keyId, string role) => Bucket(keyId, role).AttemptAcquire(1);

    private TokenBucketRateLimiter Bucket(string keyId, string role) => _buckets.GetOrAdd(keyId, static (_, bucket) => new TokenBucketRateLimiter(
        new TokenBucketRateLimiterOptions
        {
            TokenLimit = bucket.TokenLimit,
            TokensPerPeriod = bucket.TokensPerPeriod,
            ReplenishmentPeriod = bucket.ReplenishmentPeriod,
            QueueLimit = 0,
            AutoReplenishment = true,
        }), options.Value.For(role));

    public void Dispose()
    {
        foreach (var bucket in _buckets.Values)
        {
            bucket.Dispose();
        }
    }

    /// <summary>
    /// Hands the middleware a shared bucket: the middleware disposes limiters that sat idle, which must not reset a key's bucket
    /// that the stream messages still draw on.
    /// </summary>
    private sealed class SharedLimiter(RateLimiter bucket) : RateLimiter
    {
        public override TimeSpan? IdleDuration => bucket.IdleDuration;

        public override RateLimiterStatistics? GetStatistics() => bucket.GetStatistics();

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => bucket.AttemptAcquire(permitCount);

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            bucket.AcquireAsync(permitCount, cancellationToken);
    }
}
