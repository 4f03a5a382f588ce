using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Limits;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace MlPlatform.Gateway.Errors;

/// <summary>What the gateway answers itself for a proxied request: its status, title, detail and, for a 503, its <c>Retry-After</c>.</summary>
public sealed record GatewayAnswer(int Status, string Title, string Detail, int? RetryAfterSeconds = null);

/// <summary>
/// The one place that decides what a proxied request that did not end in a backend's own answer becomes: a refusal the gateway made
/// before forwarding (<see cref="Refuse"/>: a body over the route's limit), a retry on another instance (<see cref="MayRetry"/>), or the
/// gateway's answer (<see cref="AnswerFor"/>: 413, 503 + <c>Retry-After</c>, 504, 502). <c>ForwardOutcomeMiddleware</c> writes that answer
/// and then drains the body the client may still be sending; <c>RetryOnAnotherInstance</c> performs the retry. Neither decides by itself,
/// so neither depends on where the other sits in the pipeline.
/// </summary>
public static class ForwardFailures
{
    private static readonly object ArrivedAt = new();

    /// <summary>Notes when the request arrived at the gateway, for the time a 504 says it waited.</summary>
    public static void NoteArrival(HttpContext context) => context.Items[ArrivedAt] = Stopwatch.GetTimestamp();

    /// <summary>Refuses the request before it is forwarded; <c>ForwardOutcomeMiddleware</c> writes the answer and drains the body.</summary>
    public static Task Refuse(HttpContext context, GatewayAnswer answer)
    {
        context.Features.Set(answer);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Whether a failed attempt may be sent once more (to another live instance): it failed before any response byte, and either the
    /// connection was refused (nothing was sent, so any method) or the method is GET or HEAD (a connection that broke: a killed replica).
    /// </summary>
    public static bool MayRetry(HttpContext context, IForwarderErrorFeature error) =>
        !context.Response.HasStarted
        && error.Error == ForwarderError.Request
        && (IsConnectionRefused(error.Exception) || HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method));

    /// <summary>
    /// The gateway's answer once the proxy pipeline has run, or null when the backend's answer (or nothing: the response has started)
    /// stands. In order: the gateway's own refusal; the route's timeout (504, the real time waited); a failed forward.
    /// </summary>
    public static GatewayAnswer? AnswerFor(HttpContext context)
    {
        if (context.Features.Get<GatewayAnswer>() is { } refusal)
        {
            return refusal;
        }
        if (context.Response.HasStarted)
        {
            return null;
        }
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (IsBodyTooLarge(error?.Exception))
        {
            // A body without Content-Length that passed the route's limit while it was streamed to the backend. The server's
            // exception can reach YARP wrapped (an IOException around it), so the whole chain is looked at.
            var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            return Answer(StatusCodes.Status413PayloadTooLarge, limit is { } bytes
                ? $"The request body exceeds this route's limit of {bytes} bytes (it was sent without a Content-Length and cut off there)."
                : "The request body exceeds this route's size limit.");
        }
        // The timeout middleware cancels the request, and YARP sees only a cancelled request (RequestCanceled, 400): the route's
        // timeout is recognised by its token, still alive here inside the proxy pipeline.
        if (context.Features.Get<IHttpRequestTimeoutFeature>() is { RequestTimeoutToken.IsCancellationRequested: true })
        {
            return Answer(StatusCodes.Status504GatewayTimeout, TimeoutDetail(context, routeTimeout: true));
        }
        if (error is null)
        {
            return null;
        }
        if (error.Error == ForwarderError.RequestTimedOut)
        {
            return Answer(StatusCodes.Status504GatewayTimeout, TimeoutDetail(context, routeTimeout: false));
        }
        if (error.Error == ForwarderError.NoAvailableDestinations || (error.Error == ForwarderError.Request && IsConnectionRefused(error.Exception)))
        {
            // No instance passes its health check, or the one tried refused the connection: either way nothing was sent, so unlike other
            // transport failures (502) the client may safely send the request again, whatever its method.
            var seconds = context.RequestServices.GetRequiredService<IOptions<UnavailableBackendOptions>>().Value.RetryAfterSeconds;
            var backend = context.Features.Get<IReverseProxyFeature>()?.Cluster.Config.ClusterId ?? "backend";
            return Answer(StatusCodes.Status503ServiceUnavailable,
                $"No live instance of '{backend}' is accepting requests (starting, restarting, stopped or shutting down); retry after {seconds} s.",
                seconds);
        }
        // YARP's own status for the rest: 502 for transport failures, 400 for a client that cut off its body or went away.
        var status = context.Response.StatusCode >= StatusCodes.Status400BadRequest ? context.Response.StatusCode : StatusCodes.Status502BadGateway;
        return Answer(status, error.Error == ForwarderError.RequestBodyClient
            ? "The request body could not be read from the client."
            : $"The backend could not be reached ({error.Error}).");
    }

    private static bool IsBodyTooLarge(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Writes <paramref name="answer"/> in the platform's error shape, with its <c>Retry-After</c>.</summary>
    public static Task WriteAsync(HttpContext context, GatewayAnswer answer)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }
        if (answer.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
        return GatewayErrors.WriteAsync(context, answer.Status, answer.Title, answer.Detail);
    }

    internal static bool IsConnectionRefused(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Says which timeout ended the request and how long it really waited: the route's own (<paramref name="routeTimeout"/>), or the
    /// proxy's activity timeout (the backend sent nothing for that long), which is shorter than the long upload/download routes' timeouts.
    /// </summary>
    internal static string TimeoutDetail(HttpContext context, bool routeTimeout)
    {
        var waited = context.Items[ArrivedAt] is long arrived
            ? FormattableString.Invariant($"; waited {Stopwatch.GetElapsedTime(arrived).TotalSeconds:0.#} s")
            : "";
        if (!routeTimeout)
        {
            return $"The backend sent nothing for the proxy's activity timeout{waited}.";
        }
        var policy = context.Features.Get<IReverseProxyFeature>()?.Route.Config.TimeoutPolicy;
        var timeouts = context.RequestServices.GetRequiredService<IOptions<TimeoutOptions>>().Value;
        var timeout = policy is not null && timeouts.For(policy) is { } t ? FormattableString.Invariant($" of {t.TotalSeconds:0.###} s ('{policy}')") : "";
        return $"The backend did not answer within this route's timeout{timeout}{waited}.";
    }

    internal static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";

    private static GatewayAnswer Answer(int status, string detail, int? retryAfter = null) => new(status, ReasonPhrase(status), detail, retryAfter);
}
