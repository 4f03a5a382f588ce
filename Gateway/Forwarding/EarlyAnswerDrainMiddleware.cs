using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace MlPlatform.Gateway.Forwarding;

/// <summary>
/// When a backend refused a request from its headers (<see cref="EarlyAnswerTransformProvider"/>), the client's body was never read. An
/// HTTP/1.1 client that did not send <c>Expect: 100-continue</c> (HttpClient, most libraries) reads no answer before it has sent its body,
/// so the answer is completed first and the rest of the body read and dropped, up to <see cref="EarlyAnswerOptions.MaxDrainBytes"/>,
/// at the route's least data rate; the client then reads its 503 or 404 instead of a reset connection.
/// </summary>
public sealed class EarlyAnswerDrainMiddleware(RequestDelegate next, IOptions<EarlyAnswerOptions> options, ILogger<EarlyAnswerDrainMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        var request = context.Request;
        if (context.Response.StatusCode < StatusCodes.Status400BadRequest
            // The forwarder failed (no live instance, refused, timed out): the gateway's error pipeline has yet to write the answer's
            // body, which completing the response here would cut off (an empty 503 without Retry-After).
            || context.Features.Get<IForwarderErrorFeature>() is not null
            || !HttpProtocol.IsHttp11(request.Protocol)
            || request.ContentLength is 0
            || request.ContentLength is null && !request.Headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase)
            // A client waiting for 100 Continue has not sent its body and will not once it has its answer: reading would ask for it.
            || request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        var limit = options.Value.MaxDrainBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        long drained = 0;
        try
        {
            await context.Response.CompleteAsync();
            int read;
            while ((read = await request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
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
        // The body was partly forwarded and failed, the client went away, or it was cut for its data rate: the answer is sent already.
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
