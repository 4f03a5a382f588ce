using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using MlPlatform.GrpcContracts;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// Per-message limits on a gRPC client stream (<c>ModelStreamInfer</c>): routes name, with the metadata entry
/// <see cref="MetadataKey"/>, the body size limit each message is held to (<c>inference</c>: a message may be as large as a unary infer
/// body), and every message takes one token of the key's rate bucket, like a unary call. A message over either limit is not forwarded:
/// the scorer sees the stream end there, answers the messages before it, and the gateway ends the call with RESOURCE_EXHAUSTED.
/// </summary>
public sealed class StreamMessageLimitMiddleware(RequestDelegate next, IOptions<BodySizeLimitOptions> sizes, PerKeyRateLimiters buckets,
    StreamMessageLimitMetrics metrics, ILogger<StreamMessageLimitMiddleware> logger)
{
    public const string MetadataKey = "StreamMessageLimit";

    public Task InvokeAsync(HttpContext context)
    {
        var route = context.Features.Get<IReverseProxyFeature>()?.Route.Config;
        if (route?.Metadata?.TryGetValue(MetadataKey, out var name) != true)
        {
            return next(context);
        }
        var limit = sizes.Value.For(name) ?? throw new InvalidOperationException($"Route '{route.RouteId}' names an unknown body size limit '{name}'.");
        var keyId = context.User.FindFirstValue(ClaimTypes.NameIdentifier);
        var role = context.User.FindFirstValue(ClaimTypes.Role);
        context.Request.Body = new GrpcMessageLimitStream(context.Request.Body, length =>
        {
            string? refusal = null;
            if (length > limit)
            {
                refusal = $"A stream message of {length} bytes exceeds the limit of {limit} bytes per message ('{name}'); the stream ends here.";
                metrics.Refused("size");
            }
            else if (keyId is not null && role is not null)
            {
                using var lease = buckets.AttemptAcquire(keyId, role);
                if (!lease.IsAcquired)
                {
                    var seconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                    refusal = $"This API key has used up its request rate (each stream message counts as a request); retry after {seconds} s. The stream ends here.";
                    metrics.Refused("rate");
                }
            }
            if (refusal is not null)
            {
                logger.LogWarning("Ended the gRPC stream {Path} of key {KeyId}: {Refusal}", context.Request.Path.Value, keyId ?? "anonymous", refusal);
                Activity.Current?.SetStatus(ActivityStatusCode.Error, refusal);
                context.Features.Set(new StreamMessageRefusal(refusal));
            }
            return refusal is null;
        });
        return next(context);
    }
}

/// <summary>Why the gateway stopped forwarding a stream; its trailers then say RESOURCE_EXHAUSTED with this message.</summary>
public sealed record StreamMessageRefusal(string Message);

/// <summary>Rewrites the trailers of a stream the gateway cut short: the scorer finished normally, but the call did not.</summary>
public sealed class StreamMessageLimitTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata?.ContainsKey(StreamMessageLimitMiddleware.MetadataKey) != true)
        {
            return;
        }
        context.AddResponseTrailersTransform(transform =>
        {
            var http = transform.HttpContext;
            if (http.Features.Get<StreamMessageRefusal>() is { } refusal
                && http.Features.Get<IHttpResponseTrailersFeature>()?.Trailers is { } trailers
                && trailers["grpc-status"] is var status && (status.Count == 0 || status == "0"))
            {
                trailers["grpc-status"] = ((int)global::Grpc.Core.StatusCode.ResourceExhausted).ToString(CultureInfo.InvariantCulture);
                trailers["grpc-message"] = GrpcStatusCodes.EncodeMessage(refusal.Message);
            }
            return ValueTask.CompletedTask;
        });
    }
}

/// <summary>Counts stream messages the gateway refused, by reason (<c>size</c>, <c>rate</c>).</summary>
public sealed class StreamMessageLimitMetrics
{
    public const string MeterName = "MlPlatform.Gateway";

    private readonly Counter<long> _refused;

    public StreamMessageLimitMetrics(IMeterFactory meters) =>
        _refused = meters.Create(MeterName).CreateCounter<long>("mlplatform.gateway.stream_messages_refused", unit: "{message}",
            description: "gRPC stream messages the gateway refused (the stream ended with RESOURCE_EXHAUSTED), by reason");

    public void Refused(string reason) => _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));
}

/// <summary>
/// Reads a gRPC request body frame by frame (1-byte flag, 4-byte big-endian length, message) and asks <c>admit</c> about each message
/// before any of its bytes go on; a message refused ends the body there, as if the client had closed its side.
/// </summary>
internal sealed class GrpcMessageLimitStream(Stream inner, Func<long, bool> admit) : Stream
{
    private const int HeaderLength = 5;
    private readonly byte[] _header = new byte[HeaderLength];
    private int _headerFilled;
    private int _headerSent = HeaderLength;
    private long _messageLeft;
    private bool _ended;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ended || buffer.Length == 0)
        {
            return 0;
        }
        if (_headerSent == HeaderLength && _messageLeft == 0)
        {
            // Between messages: the next header must be whole before anything of it is forwarded.
            while (_headerFilled < HeaderLength)
            {
                var read = await inner.ReadAsync(_header.AsMemory(_headerFilled), cancellationToken);
                if (read == 0)
                {
                    // A header cut short is the client's malformed stream: forward what came, the scorer reports it.
                    _ended = true;
                    _header.AsSpan(0, _headerFilled).CopyTo(buffer.Span);
                    return _headerFilled;
                }
                _headerFilled += read;
            }
            var length = BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(1));
            if (!admit(length))
            {
                _ended = true;
                return 0;
            }
            _headerFilled = 0;
            _headerSent = 0;
            _messageLeft = length;
        }
        if (_headerSent < HeaderLength)
        {
            var count = Math.Min(HeaderLength - _headerSent, buffer.Length);
            _header.AsSpan(_headerSent, count).CopyTo(buffer.Span);
            _headerSent += count;
            return count;
        }
        var body = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _messageLeft)], cancellationToken);
        if (body == 0)
        {
            _ended = true;
        }
        _messageLeft -= body;
        return body;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

internal static class StreamMessageLimitExtensions
{
    /// <summary>Registers the per-message limits of gRPC streams (their trailers transform and metrics).</summary>
    public static IReverseProxyBuilder AddStreamMessageLimits(this IReverseProxyBuilder proxy)
    {
        // The meter is exported with every MlPlatform.* meter (ServiceDefaults).
        proxy.Services.AddSingleton<StreamMessageLimitMetrics>();
        return proxy.AddTransforms<StreamMessageLimitTransformProvider>();
    }

    /// <summary>Holds each message of a route's gRPC stream to its limits (after the body size limit, before the backend is called).</summary>
    public static IReverseProxyApplicationBuilder UseStreamMessageLimits(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<StreamMessageLimitMiddleware>();
        return proxy;
    }
}
