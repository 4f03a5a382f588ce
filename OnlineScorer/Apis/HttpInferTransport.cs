using System.Buffers;
using System.Globalization;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Model;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Apis;

/// <summary>
/// The V2 HTTP/JSON front end of <see cref="InferenceService"/>: reads <c>Inference-Header-Content-Length</c> and the body into a pooled
/// buffer (at most <see cref="InferenceLimitsOptions.MaxRequestBodyBytes"/>), decodes it with <see cref="InferRequestReader"/>, and
/// encodes the response with <see cref="InferResponseWriter"/> into an <see cref="InferResult"/>. The body and its decoded tensors are
/// reserved in the <see cref="InFlightBudget"/> before the body is read (from <c>Content-Length</c>, or as a chunked body arrives)
/// and released when the transport is disposed.
/// </summary>
internal sealed class HttpInferTransport(HttpRequest request, InferenceLimitsOptions limits, InFlightBudget budget) : IInferTransport<InferResult>, IDisposable
{
    private const string HeaderLengthHeader = "Inference-Header-Content-Length";

    /// <summary>
    /// Decoded bytes per JSON byte at worst: an 8-byte element (FP64, INT64) takes at least two characters (<c>0,</c>). Binary tensor
    /// data decodes to its own size.
    /// </summary>
    private const int JsonExpansion = 4;

    private byte[]? _body;
    private int _bodyLength;
    private int? _jsonLength;
    private long _reserved;

    public async ValueTask ReceiveAsync(CancellationToken cancellationToken)
    {
        _jsonLength = ReadHeaderLength(request);
        if (request.ContentLength > limits.MaxRequestBodyBytes)
        {
            throw new InferenceProtocolException($"The request body has {request.ContentLength} bytes; the limit is {limits.MaxRequestBodyBytes}.",
                StatusCodes.Status413PayloadTooLarge);
        }
        if (request.ContentLength is { } declared)
        {
            ReserveFor(declared);
        }
        try
        {
            (_body, _bodyLength) = await ReadBodyAsync(cancellationToken);
        }
        catch (BadHttpRequestException ex)
        {
            throw new InferenceProtocolException(ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"The request body exceeds {limits.MaxRequestBodyBytes} bytes."
                : $"Bad request: {ex.Message}", ex.StatusCode);
        }
    }

    public InferRequest Decode(ModelSignature signature)
    {
        var decoded = InferRequestReader.Read(_body.AsSpan(0, _bodyLength), _jsonLength, signature, new InferRequestLimits(limits.MaxElementsPerInput));
        // The body is not needed once decoded: give it back before the model runs (its reservation stays until the response is written).
        ReturnBody();
        return decoded;
    }

    public InferResult Encode(InferReply reply)
    {
        var outputs = reply.Outputs;
        var binary = new bool[outputs.Count];
        for (var i = 0; i < outputs.Count; i++)
        {
            binary[i] = reply.Request.WantsBinary(outputs[i].Name);
        }
        var response = new PooledBufferWriter(EstimateSize(outputs, binary));
        try
        {
            var headerLength = InferResponseWriter.Write(response, reply.Model, reply.Version, reply.Request.Id, outputs, binary);
            return new InferResult(response, headerLength, reply.CacheStatus);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        ReturnBody();
        budget.Release(_reserved, endsRequest: _reserved > 0);
        _reserved = 0;
    }

    /// <summary>Reserves what a body of <paramref name="bodyBytes"/> costs: itself and, at worst, its decoded tensors.</summary>
    private void ReserveFor(long bodyBytes)
    {
        var json = Math.Min(bodyBytes, _jsonLength ?? bodyBytes);
        var cost = bodyBytes + json * JsonExpansion + (bodyBytes - json);
        if (cost > _reserved)
        {
            // The first reservation makes the request count as production work in flight until the transport is disposed.
            budget.Reserve(cost - _reserved, newRequest: _reserved == 0);
            _reserved = cost;
        }
    }

    private void ReturnBody()
    {
        if (_body is { } body)
        {
            _body = null;
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    private static int EstimateSize(IReadOnlyList<TensorBuffer> outputs, bool[] binary)
    {
        long size = 256;
        for (var i = 0; i < outputs.Count; i++)
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

    private async Task<(byte[] Buffer, int Length)> ReadBodyAsync(CancellationToken cancellationToken)
    {
        var limit = limits.MaxRequestBodyBytes;
        var initial = Math.Clamp(request.ContentLength ?? 16 * 1024, 1, limit);
        ReserveFor(initial);
        var buffer = ArrayPool<byte>.Shared.Rent((int)initial);
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
                    // A body without a length is counted as it arrives: the next buffer is reserved before it is rented.
                    var next = Math.Min((long)buffer.Length * 2, limit);
                    ReserveFor(next);
                    var bigger = ArrayPool<byte>.Shared.Rent((int)next);
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
