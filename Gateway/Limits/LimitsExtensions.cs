using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Errors;

namespace MlPlatform.Gateway.Limits;

internal static class LimitsExtensions
{
    /// <summary>The gateway's own probes (answered locally, never forwarded).</summary>
    private static readonly PathString[] Unlimited = ["/health", "/alive"];

    /// <summary>Probes of the inference health (HTTP and gRPC), which share the pool reserved for admins.</summary>
    private static readonly PathString[] ScorerHealth =
        ["/v2/health", "/inference.GRPCInferenceService/ServerLive", "/inference.GRPCInferenceService/ServerReady"];

    /// <summary>The output cache policy of <c>/v2/health/**</c> (named by the route in configuration): answers kept one second.</summary>
    public const string HealthCachePolicy = "health";

    /// <summary>The output cache policy of the API documents.</summary>
    public const string DocsCachePolicy = "docs";

    public static void AddGatewayLimits(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TimeoutOptions>().BindConfiguration(TimeoutOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HeaderLimitOptions>().BindConfiguration(HeaderLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<BodySizeLimitOptions>().BindConfiguration(BodySizeLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DataRateOptions>().BindConfiguration(DataRateOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<DataRateOptions>, DataRateRoutesValidator>();
        services.AddOptions<ClientErrorOptions>().BindConfiguration(ClientErrorOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ClientErrorBudget>();
        services.AddSingleton<ClientErrorMetrics>();

        // Anonymous answers are cached so that a flood of them costs no backend calls.
        services.AddOutputCache(options =>
        {
            options.AddPolicy(HealthCachePolicy, policy => policy.Expire(TimeSpan.FromSeconds(1)));
            options.AddPolicy(DocsCachePolicy, policy => policy.Expire(TimeSpan.FromSeconds(30)));
        });
        services.AddSingleton<IValidateOptions<BodySizeLimitOptions>, BodySizeLimitRoutesValidator>();

        services.AddOptions<KestrelServerOptions>().Configure<IOptions<HeaderLimitOptions>, IOptions<BodySizeLimitOptions>>((kestrel, headers, bodies) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestHeadersTotalSize = headers.Value.MaxTotalSize;
            kestrel.Limits.MaxRequestHeaderCount = headers.Value.MaxCount;
            kestrel.Limits.MaxRequestLineSize = headers.Value.MaxRequestLineSize;
            // Proxied routes raise or lower this per request (BodySizeLimitMiddleware); everything else gets the default.
            kestrel.Limits.MaxRequestBodySize = bodies.Value.Default;
        });

        services.AddRequestTimeouts();
        services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<TimeoutOptions>>((options, timeouts) =>
        {
            foreach (var (name, timeout) in timeouts.Value.Policies)
            {
                options.AddPolicy(name, new RequestTimeoutPolicy { Timeout = timeout, TimeoutStatusCode = StatusCodes.Status504GatewayTimeout });
            }
        });

        services.AddRateLimiter(_ => { });
        services.AddSingleton<PerKeyRateLimiters>();
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>, PerKeyRateLimiters>((options, limits, buckets) =>
        {
            var settings = limits.Value;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = OnRejectedAsync;
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => PoolOf(context) switch
            {
                Pool.Unlimited => RateLimitPartition.GetNoLimiter("unlimited"),
                Pool.Reserved => RateLimitPartition.GetConcurrencyLimiter("reserved", _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = settings.ReservedConcurrencyLimit,
                    QueueLimit = settings.ConcurrencyQueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                }),
                Pool.Anonymous => RateLimitPartition.GetConcurrencyLimiter("anonymous", _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = settings.AnonymousConcurrencyLimit,
                    QueueLimit = settings.AnonymousQueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                }),
                _ => RateLimitPartition.GetConcurrencyLimiter("shared", _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = settings.ConcurrencyLimit,
                    QueueLimit = settings.ConcurrencyQueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                }),
            });
            options.AddPolicy(RateLimitOptions.PerKeyPolicy, context =>
            {
                var keyId = context.User.FindFirstValue(ClaimTypes.NameIdentifier);
                var role = context.User.FindFirstValue(ClaimTypes.Role);
                if (keyId is null || role is null)
                {
                    // Authorization runs first, so only anonymous routes get here; they are not metered per key.
                    return RateLimitPartition.GetNoLimiter("anonymous");
                }
                var bucket = settings.For(role);
                // The key's one token bucket, which the messages of its gRPC streams draw on too, chained with its open-request
                // share: past it, refused at once (no queue), so slow uploads cannot take the pool.
                return RateLimitPartition.Get(keyId, _ => RateLimiter.CreateChained(
                    buckets.For(keyId, role),
                    new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = bucket.ConcurrencyLimit, QueueLimit = 0 })));
            });
        });
    }

    private enum Pool { Unlimited, Reserved, Anonymous, Shared }

    private static Pool PoolOf(HttpContext context)
    {
        var path = context.Request.Path;
        if (Unlimited.Any(p => path.StartsWithSegments(p)))
        {
            return Pool.Unlimited;
        }
        if (ScorerHealth.Any(p => path.StartsWithSegments(p)) || context.User.IsInRole(Auth.GatewayRoles.Admin))
        {
            return Pool.Reserved;
        }
        return context.User.Identity?.IsAuthenticated == true ? Pool.Shared : Pool.Anonymous;
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        // The concurrency limiter does not estimate a wait; a second is a fair hint for a queue that drains continuously.
        // Only the token buckets estimate a wait, so its presence also tells which limit was met.
        var perKey = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait);
        var seconds = Math.Max(1, (int)Math.Ceiling((perKey ? wait : TimeSpan.FromSeconds(1)).TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        // Without a wait estimate it was a concurrency limit: the pool's, when the pool has no permit left, else the key's share.
        var services = context.RequestServices;
        var poolFull = services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter?.GetStatistics(context) is not { } pool
            || pool.CurrentAvailablePermits == 0;
        var role = context.User.FindFirstValue(ClaimTypes.Role);
        await GatewayErrors.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too Many Requests", perKey
            ? $"This API key has used up its request rate; retry after {seconds} s."
            : poolFull || role is null
                ? $"The gateway is at its concurrency limit; retry after {seconds} s."
                : $"This API key already has {services.GetRequiredService<IOptions<RateLimitOptions>>().Value.For(role).ConcurrencyLimit} requests open, its share; retry after {seconds} s.");
    }

    /// <summary>
    /// Refuses keys in a client-error cool-down (<see cref="ClientErrorOptions"/>) and counts the others' client errors: after
    /// authorization, which names the key, and before the rate limiter, so a refused request takes no concurrency slot.
    /// </summary>
    public static IApplicationBuilder UseClientErrorBudget(this IApplicationBuilder app) => app.UseMiddleware<ClientErrorBudgetMiddleware>();

    /// <summary>Applies the route's body size limit inside the proxy pipeline, after the route is known and before the backend is called.</summary>
    public static IReverseProxyApplicationBuilder UseBodySizeLimits(this IReverseProxyApplicationBuilder proxy)
    {
        // The data rate first: a body refused for its size is still drained, at the route's least rate.
        proxy.UseMiddleware<DataRateMiddleware>();
        proxy.UseMiddleware<BodySizeLimitMiddleware>();
        return proxy;
    }
}
