using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>What a request is told when a dependency of its route is down (section <c>DependencyUnavailable</c>).</summary>
public sealed class DependencyUnavailableOptions
{
    public const string SectionName = "DependencyUnavailable";

    /// <summary>
    /// Seconds a client should wait before retrying, sent as <c>Retry-After</c> and quoted in the detail. Default 5: the supervisor
    /// restarts a crashed Redis within a few seconds, and a client that retries sooner only meets the same 503.
    /// </summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 5;
}

/// <summary>How a service words the outage of one dependency: the problem's title and the start of its detail.</summary>
/// <param name="Title">The problem's title, e.g. "Job state unavailable".</param>
/// <param name="Detail">What the caller cannot have and why, without the retry advice the handler appends ("; retry in 5 s.").</param>
/// <param name="IsOutage">Whether an exception means the dependency is down (as opposed to a bug).</param>
public sealed record DependencyOutage(string Title, string Detail, Func<Exception, bool> IsOutage);

/// <summary>
/// The one place a service turns "a dependency is down" (say Redis restarting) into 503, <c>Retry-After</c> and a plain problem
/// detail, instead of a 500 naming an exception type. Runs inside <c>UseExceptionHandler</c>; the exception's own message stays in
/// the log, never in the answer.
/// </summary>
public sealed partial class DependencyUnavailableHandler(DependencyOutage outage, IOptions<DependencyUnavailableOptions> options,
    IProblemDetailsService problems, ILogger<DependencyUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!outage.IsOutage(exception))
        {
            return false;
        }
        LogOutage(logger, httpContext.Request.Method, httpContext.Request.Path, outage.Title, exception.Message);
        var seconds = options.Value.RetryAfterSeconds;
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = outage.Title,
                Detail = $"{outage.Detail}; retry in {seconds} s.",
            },
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered 503 ({Title}): {Reason}")]
    private static partial void LogOutage(ILogger logger, string method, string path, string title, string reason);
}

public static class DependencyUnavailableExtensions
{
    /// <summary>
    /// Maps exceptions for which <see cref="DependencyOutage.IsOutage"/> is true to 503 + <c>Retry-After</c> worded by
    /// <paramref name="outage"/> (<see cref="DependencyUnavailableHandler"/>). The service's pipeline needs <c>UseExceptionHandler</c>.
    /// </summary>
    public static TBuilder AddDependencyUnavailableHandler<TBuilder>(this TBuilder builder, DependencyOutage outage)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<DependencyUnavailableOptions>().BindConfiguration(DependencyUnavailableOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<IExceptionHandler>(services => ActivatorUtilities.CreateInstance<DependencyUnavailableHandler>(services, outage));
        return builder;
    }
}
