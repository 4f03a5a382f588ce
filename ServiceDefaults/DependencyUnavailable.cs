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

    /// <summary>Seconds a client should wait before retrying, sent as <c>Retry-After</c>. Default 1.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 1;
}

/// <summary>
/// Answers a request that failed because a dependency is down (say Redis restarting) with 503, <c>Retry-After</c> and a plain
/// problem detail naming the dependency, instead of a 500 naming an exception type. Runs inside <c>UseExceptionHandler</c>.
/// </summary>
public sealed partial class DependencyUnavailableHandler(string dependency, Func<Exception, bool> isOutage, IOptions<DependencyUnavailableOptions> options,
    IProblemDetailsService problems, ILogger<DependencyUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!isOutage(exception))
        {
            return false;
        }
        LogOutage(logger, httpContext.Request.Method, httpContext.Request.Path, dependency, exception.Message);
        var seconds = options.Value.RetryAfterSeconds;
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service Unavailable",
                Detail = $"{dependency}, which this request needs, is not answering (restarting or down); retry after {seconds} s.",
            },
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: {Dependency} is not answering ({Reason})")]
    private static partial void LogOutage(ILogger logger, string method, string path, string dependency, string reason);
}

public static class DependencyUnavailableExtensions
{
    /// <summary>
    /// Maps exceptions for which <paramref name="isOutage"/> is true to 503 + <c>Retry-After</c> naming <paramref name="dependency"/>
    /// (<see cref="DependencyUnavailableHandler"/>). The service's pipeline needs <c>UseExceptionHandler</c>.
    /// </summary>
    public static TBuilder AddDependencyUnavailableHandler<TBuilder>(this TBuilder builder, string dependency, Func<Exception, bool> isOutage)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<DependencyUnavailableOptions>().BindConfiguration(DependencyUnavailableOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<IExceptionHandler>(services => ActivatorUtilities.CreateInstance<DependencyUnavailableHandler>(services, dependency, isOutage));
        return builder;
    }
}
