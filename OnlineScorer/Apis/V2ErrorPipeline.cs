using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using MlPlatform.OnlineScorer.Model;

namespace MlPlatform.OnlineScorer.Apis;

/// <summary>
/// Every error the scorer's HTTP endpoint answers is a V2 <c>{"error": "..."}</c>, whatever produced it: a body the endpoint could not
/// bind, an exception nothing else caught, or a request no route matches. Without this, an unbound body or an unhandled exception
/// reached ASP.NET Core's developer exception page whenever the service ran as Development (as <c>./platform start</c> runs it):
/// a stack trace and every request header, the gateway's internal key among them, sent back through the gateway to the caller.
/// </summary>
internal static class V2ErrorPipeline
{
    /// <summary>Minimal APIs report an unbindable body by throwing, in every environment, so that the handler below words it.</summary>
    public static void AddV2Errors(this IHostApplicationBuilder builder) =>
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

    /// <summary>Goes first in the pipeline: it catches what every later middleware and endpoint throws.</summary>
    public static WebApplication UseV2Errors(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = WriteExceptionAsync,
            // A body the client got wrong is not the scorer's error: no error-level log line and stack trace for each one a caller sends.
            SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException,
        });
        // A request that matched no route (404) or no method (405) gets the V2 shape too; answers that carry a body are left alone.
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            var message = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => $"No such route: {http.Request.Method} {http.Request.Path}.",
                StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}.",
                var status => $"The request was refused ({status}).",
            };
            return new V2ErrorResult(http.Response.StatusCode, message).ExecuteAsync(http);
        });
        return app;
    }

    private static Task WriteExceptionAsync(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        if (error is BadHttpRequestException bad)
        {
            // The binder's own message names the parameter's C# type; the client needs where its JSON went wrong.
            var message = bad.InnerException is JsonException json
                ? $"The request body is not valid JSON for this endpoint{(json.Path is { Length: > 0 } path ? $" (at {path})" : "")}."
                : bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? "The request body is larger than this endpoint accepts."
                    : "The request could not be read: its body or parameters do not fit this endpoint.";
            return new V2ErrorResult(bad.StatusCode, message).ExecuteAsync(context);
        }
        // The exception is logged by the middleware; the client gets the trace id to quote, never the exception's text.
        var trace = Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
        return new V2ErrorResult(StatusCodes.Status500InternalServerError,
            $"The scorer failed to handle the request (trace id {trace}).").ExecuteAsync(context);
    }
}
