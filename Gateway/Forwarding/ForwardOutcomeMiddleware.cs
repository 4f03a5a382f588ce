using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Errors;

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
/// at the route's least data rate.
/// </remarks>
public sealed class ForwardOutcomeMiddleware(RequestDelegate next, IOptions<EarlyAnswerOptions> options, ILogger<ForwardOutcomeMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        if (ForwardFailures.AnswerFor(context) is { } answer)
        {
            await ForwardFailures.WriteAsync(context, answer);
        }
        if (context.Response.StatusCode >= StatusCodes.Status400BadRequest && MayDrain(context, options.Value.MaxDrainBytes))
        {
            await DrainAsync(context);
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

    private async Task DrainAsync(HttpContext context)
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
