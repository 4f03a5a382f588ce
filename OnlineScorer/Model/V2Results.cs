using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Http.Metadata;
using System.Reflection;

namespace MlPlatform.OnlineScorer.Model;

/// <summary>A V2 error: <c>{"error": "..."}</c> with its status code, and <c>Retry-After</c> when the client should come back.</summary>
public sealed class V2ErrorResult(int statusCode, string message, int? retryAfterSeconds = null) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public int? StatusCode => statusCode;

    public string Message => message;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        if (retryAfterSeconds is { } seconds)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
        return httpContext.Response.WriteAsJsonAsync(new V2ErrorResponse(message), V2JsonContext.Relaxed.V2ErrorResponse);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(V2ErrorResponse), ["application/json"]));
}

/// <summary>
/// An infer response already encoded in a pooled buffer: JSON, or JSON header plus binary outputs
/// (<c>Inference-Header-Content-Length</c>); the buffer goes back to the pool once written.
/// </summary>
public sealed class InferResult(PooledBufferWriter body, int jsonLength, string? cacheStatus) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public const string CacheHeader = "X-Inference-Cache";

    public int? StatusCode => StatusCodes.Status200OK;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using (body)
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            if (jsonLength == body.WrittenCount)
            {
                response.ContentType = "application/json";
            }
            else
            {
                response.ContentType = "application/octet-stream";
                response.Headers["Inference-Header-Content-Length"] = jsonLength.ToString(CultureInfo.InvariantCulture);
            }
            if (cacheStatus is not null)
            {
                response.Headers[CacheHeader] = cacheStatus;
            }
            response.ContentLength = body.WrittenCount;
            await response.Body.WriteAsync(body.WrittenMemory, httpContext.RequestAborted);
        }
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, null, ["application/json", "application/octet-stream"]));
}

/// <summary>An <see cref="IBufferWriter{T}"/> over <see cref="ArrayPool{T}.Shared"/> arrays; dispose to return the array.</summary>
public sealed class PooledBufferWriter(int initialCapacity = 4096) : IBufferWriter<byte>, IDisposable
{
    private byte[] _array = ArrayPool<byte>.Shared.Rent(initialCapacity);

    public int WrittenCount { get; private set; }

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, WrittenCount);

    public void Advance(int count) => WrittenCount += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(WrittenCount);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(WrittenCount);
    }

    private void Ensure(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 256);
        if (_array.Length - WrittenCount >= sizeHint)
        {
            return;
        }
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, checked(WrittenCount + sizeHint)));
        _array.AsSpan(0, WrittenCount).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, []);
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
