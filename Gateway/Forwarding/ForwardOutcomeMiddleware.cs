using System.Buffers;
using System.Security.Claims;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Auth;
using MlPlatform.Gateway.Errors;
using MlPlatform.Gateway.Limits;

namespace MlPlatform.Gateway.Forwarding;

/// <summary>
/// First in the proxy pipeline, it finishes every proxied request that did not end in a backend's answer: it writes the gateway's
/// answer that <see cref="ForwardFailures.AnswerFor"/> decided (a refusal before forwarding, 413, 503 + <c>Retry-After</c>, 504, 502),
/// then, for any error answer, its own or a backend's, drains the body the client may still be sending.
/// </summary>
/// <remarks>
/// The drain: a refusal made from the headers (the gateway's 413 for a declared length, a backend's early answer through
/// <see cref="EarlyAnswerTransformProvider"/>, a 503 for a backend with no live instance) leaves the client's body unread. An HTTP/1.1
/// client that did not send <c>Expect: 100-continue</c> (HttpClient, most libraries) reads no answer before it has sent its body, and
/// Kestrel alone drains for five seconds, within its body size limit, then resets the connection. So the answer is completed first,
/// its body already written, and the rest of the request body read and dropped, up to <see cref="EarlyAnswerOptions.MaxDrainBytes"/>,
/// at the route's least data rate. Reading costs the gateway CPU, so the bodies of a key's client errors are drained only up to
/// <see cref="ClientErrorOptions.MaxDrainedBytes"/> per window; past it the answer carries <c>Connection: close</c> and the connection
/// is closed after it, unread.
/// </remarks>
public sealed class ForwardOutcomeMiddleware(RequestDelegate next, IOptions<EarlyAnswerOptions> options, IOptions<ClientErrorOptions> clientErrors,
    ClientErrorBudget budget, ClientErrorMetrics metrics, ILogger<ForwardOutcomeMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        var answer = ForwardFailures.AnswerFor(context);
        var status = answer?.Status ?? context.Response.StatusCode;
        var drain = status >= StatusCodes.Status400BadRequest && MayDrain(context, options.Value.MaxDrainBytes);
        // The key whose budget pays for the drain: a client error of a reader or operator key while the budget is on. Server errors
        // (a 503 for a backend's memory budget) are the platform's state, not the client's doing, and are always drained.
        var keyId = drain ? BudgetKey(context, status) : null;
        if (keyId is not null && !budget.MayDrain(keyId, context.Request.ContentLength ?? 1))
        {
            if (!context.Response.HasStarted)
            {
                context.Response.Headers.Connection = "close";
            }
            if (answer is not null)
            {
                await ForwardFailures.WriteAsync(context, answer);
            }
            await LeaveUndrainedAsync(context, keyId);
            return;
        }
        if (answer is not null)
        {
            await ForwardFailures.WriteAsync(context, answer);
        }
        if (drain)
        {
            await DrainAsync(context, keyId);
        }
    }

    private static bool MayDrain(HttpContext context, long limit)
    {
        var request = context.Request;
        return HttpProtocol.IsHttp11(request.Protocol)
            // The route's timeout ended the request: its token is cancelled, and the client is not waiting for more.
            && !context.RequestAborted.IsCancellationRequested
            // Known to be past the bound: not worth reading; Kestrel closes the connection after the answer.
            && request.ContentLength is not 0 && !(request.ContentLength > limit)
            && (request.ContentLength is not null || request.Headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase))
            // A client waiting for 100 Continue has not sent its body and will not once it has its answer: reading would ask for it.
            && !request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase);
    }

    private string? BudgetKey(HttpContext context, int status) =>
        clientErrors.Value.Enabled && ClientErrorBudget.Counts(status) && !context.User.IsInRole(GatewayRoles.Admin)
            ? context.User.FindFirstValue(ClaimTypes.NameIdentifier)
            : null;

    /// <summary>Sends the answer and closes the connection without reading the body: the key has had its share of drained bytes.</summary>
    private async Task LeaveUndrainedAsync(HttpContext context, string keyId)
    {
        metrics.LeftUndrained();
        if (budget.LeftUndrained(keyId))
        {
            var settings = clientErrors.Value;
            logger.LogWarning("API key {KeyId} had {MaxDrainedBytes} bytes of refused request bodies drained within {Window}: its further refused bodies are left unread and their connections closed until the window ends (last: {Status} on {Path})",
                keyId, settings.MaxDrainedBytes, settings.Window, context.Response.StatusCode, context.Request.Path);
        }
        try
        {
            await context.Response.CompleteAsync();
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or OperationCanceledException)
        {
            logger.LogDebug(ex, "The client went away before its answer was sent");
        }
        context.Abort();
    }

    private async Task DrainAsync(HttpContext context, string? keyId)
    {
        var limit = options.Value.MaxDrainBytes;
        // A body refused for its declared size was never limited for reading (the server's default limit applies): the drain has its own bound.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        long drained = 0;
        try
        {
            await context.Response.CompleteAsync();
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                drained += read;
                if (drained > limit)
                {
                    logger.LogInformation("Closed a connection whose refused request body went on past {Limit} bytes", limit);
                    context.Abort();
                    return;
                }
                // Other refused bodies of the key, drained at the same time, may have used up its share: stop here.
                if (keyId is not null && !budget.AddDrained(keyId, read))
                {
                    metrics.LeftUndrained();
                    logger.LogDebug("Closed a connection of key {KeyId} mid-drain: its refused bodies passed {MaxDrainedBytes} bytes", keyId,
                        clientErrors.Value.MaxDrainedBytes);
                    context.Abort();
                    return;
                }
            }
        }
        // The body was partly forwarded and failed, was cut at its size limit, the client went away, or it was cut for its data rate:
        // the answer is sent already.
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException or ConnectionResetException
            or InvalidOperationException)
        {
            logger.LogDebug(ex, "Stopped reading a refused request body after {Bytes} bytes", drained);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
