using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Errors;

namespace MlPlatform.Gateway.Limits;

internal static class LimitsExtensions
{
    private static readonly PathString[] Unlimited =
        ["/health", "/alive", "/v2/health", "/inference.GRPCInferenceService/ServerLive", "/inference.GRPCInferenceService/ServerReady"];

    public static void AddGatewayLimits(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TimeoutOptions>().BindConfiguration(TimeoutOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HeaderLimitOptions>().BindConfiguration(HeaderLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<BodySizeLimitOptions>().BindConfiguration(BodySizeLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
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
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((options, limits) =>
        {
            var settings = limits.Value;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = OnRejectedAsync;
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => IsUnlimited(context.Request.Path)
                ? RateLimitPartition.GetNoLimiter("unlimited")
                : RateLimitPartition.GetConcurrencyLimiter("all", _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = settings.ConcurrencyLimit,
                    QueueLimit = settings.ConcurrencyQueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                }));
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
                return RateLimitPartition.GetTokenBucketLimiter(keyId, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = bucket.TokenLimit,
                    TokensPerPeriod = bucket.TokensPerPeriod,
                    ReplenishmentPeriod = bucket.ReplenishmentPeriod,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
        });
    }

    private static bool IsUnlimited(PathString path) => Unlimited.Any(p => path.StartsWithSegments(p));

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        // The concurrency limiter does not estimate a wait; a second is a fair hint for a queue that drains continuously.
        // Only the token buckets estimate a wait, so its presence also tells which limit was met.
        var perKey = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait);
        var seconds = Math.Max(1, (int)Math.Ceiling((perKey ? wait : TimeSpan.FromSeconds(1)).TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await GatewayErrors.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too Many Requests", perKey
            ? $"This API key has used up its request rate; retry after {seconds} s."
            : $"The gateway is at its concurrency limit; retry after {seconds} s.");
    }

    /// <summary>Applies the route's body size limit inside the proxy pipeline, after the route is known and before the backend is called.</summary>
    public static IReverseProxyApplicationBuilder UseBodySizeLimits(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<BodySizeLimitMiddleware>();
        return proxy;
    }
}
