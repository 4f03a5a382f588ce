using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using StackExchange.Redis;

namespace MlPlatform.BatchScorer.Errors;

/// <summary>
/// Job state lives in Redis: while it cannot be reached, requests answer 503 with <c>Retry-After</c> and a reason a client can act on,
/// not a 500 that names an internal exception type.
/// </summary>
public sealed class RedisUnavailableHandler(IProblemDetailsService problems, ILogger<RedisUnavailableHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not (RedisException or RedisTimeoutException))
        {
            return false;
        }
        logger.LogWarning(exception, "Redis is unavailable; answered {Method} {Path} with 503", httpContext.Request.Method, httpContext.Request.Path);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = null,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Job state unavailable",
                Detail = $"The batch scorer cannot reach the store that holds job state right now; retry in {RetryAfterSeconds} s.",
            },
        });
    }
}
