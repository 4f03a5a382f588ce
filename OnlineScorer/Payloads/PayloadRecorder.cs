using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Payloads;

/// <summary>
/// The request path's side of the payload log: samples calls by their model's <see cref="PayloadLogSettings"/>, gives a request
/// without an id one (returned in the response, so feedback can name it), and hands finished captures to a bounded buffer that
/// <see cref="PayloadShipper"/> drains. Nothing here waits: a full buffer drops the record and counts it.
/// </summary>
public sealed class PayloadRecorder
{
    private readonly Channel<PayloadCapture> _buffer;
    private readonly PayloadMetrics _metrics;
    private readonly RouteTable _routes;
    private readonly TimeProvider _time;

    public PayloadRecorder(IOptions<PayloadLogOptions> options, PayloadMetrics metrics, RouteTable routes, TimeProvider time)
    {
        _buffer = Channel.CreateBounded<PayloadCapture>(new BoundedChannelOptions(options.Value.BufferCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _metrics = metrics;
        _routes = routes;
        _time = time;
    }

    internal ChannelReader<PayloadCapture> Reader => _buffer.Reader;

    /// <summary>
    /// Starts recording <paramref name="request"/> when its model logs payloads and the sample picks it (null otherwise). With the log
    /// on, a request without an id gets one whether or not it is sampled, so clients see one response shape.
    /// </summary>
    /// <param name="force">Record regardless of the sample (a request copied to the shadow version, and the copy itself); the capture's
    /// <see cref="PayloadCapture.Sampled"/> says whether the sample picked it anyway.</param>
    public PayloadCapture? Begin(InferCall call, LoadedVersion version, InferRequest request, bool force = false)
    {
        if (version.Settings.PayloadLog is not { Enabled: true } settings)
        {
            return null;
        }
        request.Id ??= Guid.NewGuid().ToString("N");
        var rate = settings.SampleRate ?? PayloadLogSettings.DefaultSampleRate;
        var sampled = rate >= 1 || (rate > 0 && Random.Shared.NextDouble() < rate);
        if (!sampled && !force)
        {
            return null;
        }
        var capture = new PayloadCapture(request.Id, version.Model, version.Version, RouteOf(call, version),
            settings.MaxBytesPerRecord ?? PayloadLogSettings.DefaultMaxBytesPerRecord)
        {
            Sampled = sampled,
        };
        capture.CopyInputs(request.Inputs);
        return capture;
    }

    /// <summary>Records a successful call; the outputs are copied before the caller returns them to the pool.</summary>
    public void Succeeded(PayloadCapture? capture, IReadOnlyList<TensorBuffer> outputs, TimeSpan latency)
    {
        if (capture is not null)
        {
            Ship(Complete(capture, outputs, latency));
        }
    }

    /// <summary>
    /// Finishes a successful call's record without shipping it (a production request logged only for its shadow copy, shipped with
    /// <see cref="Ship"/> if the copy runs); the outputs are copied before the caller returns them to the pool.
    /// </summary>
    public PayloadCapture Complete(PayloadCapture capture, IReadOnlyList<TensorBuffer> outputs, TimeSpan latency)
    {
        capture.CopyOutputs(outputs);
        capture.End = new PayloadEnd(_time.GetUtcNow(), latency.TotalMilliseconds, PayloadOutcomes.Success, StatusCodes.Status200OK, null);
        return capture;
    }

    /// <summary>Hands a finished record to the shipper; a full buffer drops it and counts it.</summary>
    public void Ship(PayloadCapture capture)
    {
        if (!_buffer.Writer.TryWrite(capture))
        {
            capture.Dispose();
            _metrics.Dropped(1, "buffer_full");
        }
    }

    /// <summary>Records a call that failed after its inputs were decoded.</summary>
    public void Failed(PayloadCapture? capture, int status, InferenceFault fault, string error, TimeSpan latency)
    {
        if (capture is null)
        {
            return;
        }
        capture.End = new PayloadEnd(_time.GetUtcNow(), latency.TotalMilliseconds, OutcomeOf(fault), status, error);
        Ship(capture);
    }

    /// <summary>The record's outcome: the class the inference core gave the call (<see cref="InferenceFault"/>), never re-derived here.</summary>
    internal static string OutcomeOf(InferenceFault fault) => fault switch
    {
        InferenceFault.None => PayloadOutcomes.Success,
        InferenceFault.Rejected => PayloadOutcomes.Rejected,
        InferenceFault.Server => PayloadOutcomes.ServerError,
        _ => PayloadOutcomes.ClientError,
    };

    private string RouteOf(InferCall call, LoadedVersion version) =>
        call.Route == InferRoute.Shadow ? PayloadRoutes.Shadow
        : call.Version is not null ? PayloadRoutes.Pinned
        : _routes.TryGet(version.Model, out var state) && ReferenceEquals(state.Routes.Canary, version) ? PayloadRoutes.Canary
        : PayloadRoutes.Production;

    /// <summary>Stops taking records; the shipper sends what is buffered and ends.</summary>
    internal void Complete() => _buffer.Writer.TryComplete();
}
