using System.Buffers;
using System.Globalization;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Model;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Apis;

/// <summary>
/// The REST front end of an inference: reads the V2 body (JSON, or JSON header plus binary tensors) into a pooled buffer within the
/// body limit, decodes it with <see cref="InferRequestReader"/>, and encodes the response as JSON or binary outputs.
/// </summary>
internal sealed class HttpInferExchange(HttpRequest httpRequest, long maxBodyBytes) : IInferExchange<InferResult>, IDisposable
{
    private const string HeaderLengthHeader = "Inference-Header-Content-Length";

    private byte[]? _body;
    private int _bodyLength;
    private int? _jsonLength;

    /// <summary>Runs the inference for a REST request and answers with the response or a V2 error.</summary>
    public static async Task<IResult> InferAsync(HttpContext context, string name, string? version, InferenceService inference)
    {
        using var exchange = new HttpInferExchange(context.Request, inference.Limits.MaxRequestBodyBytes);
        var outcome = await inference.InferAsync(name, version, exchange, context.RequestAborted);
        if (outcome.Failure is { } failure)
        {
            return new V2ErrorResult(failure.HttpStatus, failure.Message, failure.RetryAfterSeconds);
        }
        var result = outcome.Response!;
        result.CacheStatus = outcome.CacheStatus;
        return result;
    }

    public async ValueTask ReceiveAsync(CancellationToken cancellationToken)
    {
        _jsonLength = ReadHeaderLength(httpRequest);
        try
        {
            (_body, _bodyLength) = await ReadBodyAsync(httpRequest, maxBodyBytes, cancellationToken);
        }
        catch (BadHttpRequestException ex)
        {
            throw new InferenceProtocolException(ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"The request body exceeds {maxBodyBytes} bytes."
                : $"Bad request: {ex.Message}", ex.StatusCode);
        }
    }

    public InferRequest Decode(ModelSignature signature, InferRequestLimits limits)
    {
        var body = _body ?? throw new InvalidOperationException("The body has not been received.");
        try
        {
            return InferRequestReader.Read(body.AsSpan(0, _bodyLength), _jsonLength, signature, limits);
        }
        finally
        {
            // The request owns its own buffers now; the body's goes back before the model runs.
            ReturnBody();
        }
    }

    public InferResult Encode(string model, string version, InferRequest request, TensorBuffer[] outputs)
    {
        var binary = new bool[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            binary[i] = request.WantsBinary(outputs[i].Name);
        }
        var response = new PooledBufferWriter(EstimateSize(outputs, binary));
        try
        {
            var headerLength = InferResponseWriter.Write(response, model, version, request.Id, outputs, binary);
            return new InferResult(response, headerLength);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public void Dispose() => ReturnBody();

    private void ReturnBody()
    {
        if (_body is { } body)
        {
            _body = null;
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    private static int EstimateSize(TensorBuffer[] outputs, bool[] binary)
    {
        long size = 256;
        for (var i = 0; i < outputs.Length; i++)
        {
            size += binary[i] ? outputs[i].ByteLength + 128 : outputs[i].ElementCount * 14 + 128;
        }
        return (int)Math.Min(size, 16 << 20);
    }

    private static int? ReadHeaderLength(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(HeaderLengthHeader, out var values))
        {
            return null;
        }
        if (!int.TryParse(values.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            throw new InferenceProtocolException($"{HeaderLengthHeader} must be a non-negative integer, not '{values}'.");
        }
        return length;
    }

    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw new InferenceProtocolException($"The request body has {request.ContentLength} bytes; the limit is {limit}.", StatusCodes.Status413PayloadTooLarge);
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? 16 * 1024, 1, limit));
        var length = 0;
        try
        {
            while (true)
            {
                var capacity = (int)Math.Min(buffer.Length, limit);
                if (length == capacity)
                {
                    if (length >= limit)
                    {
                        // One byte more than the limit tells an oversized chunked body from one that fits exactly.
                        var probe = new byte[1];
                        if (await request.Body.ReadAsync(probe, cancellationToken) == 0)
                        {
                            break;
                        }
                        throw new InferenceProtocolException($"The request body exceeds {limit} bytes.", StatusCodes.Status413PayloadTooLarge);
                    }
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                    continue;
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length, capacity - length), cancellationToken);
                if (read == 0)
                {
                    break;
                }
                length += read;
            }
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
