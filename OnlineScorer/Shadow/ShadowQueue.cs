using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Payloads;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Shadow;

/// <summary>
/// A copy of a production request for the shadow version; owns its input copies and, when production's request was logged only for the
/// comparison, production's record (<see cref="ProductionRecord"/>), which is shipped only if the copy runs.
/// </summary>
/// <param name="AnsweredAt">When production answered (a <see cref="TimeProvider"/> timestamp): the copy's wait is counted from it.</param>
internal sealed record ShadowJob(string Model, string Version, string Id, TensorBuffer[] Inputs, PayloadCapture? ProductionRecord, long AnsweredAt)
{
    /// <summary>Returns what the copy holds, for a copy that will not run.</summary>
    public void Discard()
    {
        foreach (var input in Inputs)
        {
            input.Dispose();
        }
        ProductionRecord?.Dispose();
    }
}

/// <summary>
/// Picks the production requests the <c>shadow</c> alias gets a copy of (its weight, in percent), and holds the copies on a bounded
/// queue that <see cref="ShadowWorker"/> drains when production leaves room (<see cref="ShadowGate"/>): a full queue drops the copy
/// and counts it (<c>mlplatform.shadow.dropped</c>, reason <c>queue_full</c>), so shadow traffic never waits on or slows production.
/// </summary>
public sealed class ShadowQueue
{
    private readonly Channel<ShadowJob> _queue;
    private readonly RouteTable _routes;
    private readonly ShadowMetrics _metrics;
    private readonly TimeProvider _time;

    public ShadowQueue(IOptions<ShadowOptions> options, RouteTable routes, ShadowMetrics metrics, TimeProvider time)
    {
        _queue = Channel.CreateBounded<ShadowJob>(new BoundedChannelOptions(options.Value.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait });
        _routes = routes;
        _metrics = metrics;
        _time = time;
    }

    internal ChannelReader<ShadowJob> Reader => _queue.Reader;

    /// <summary>The shadow version <paramref name="served"/>'s request is copied to (a production request, for the alias's share, with the payload log on); else null.</summary>
    public LoadedVersion? Pick(InferCall call, LoadedVersion served) =>
        call.Route == InferRoute.Routed && served.Settings.PayloadLog is { Enabled: true } && _routes.TryGet(call.Model, out var state)
            ? state.Routes.PickShadow(served)
            : null;

    /// <summary>Queues a copy of <paramref name="request"/>'s inputs for <paramref name="shadow"/>, under the production request's id.</summary>
    /// <param name="productionRecord">Production's finished record, to ship only if the copy runs (null: production's log already has it).</param>
    public void Enqueue(LoadedVersion shadow, InferRequest request, PayloadCapture? productionRecord)
    {
        var inputs = new TensorBuffer[request.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            var tensor = request.Inputs[i];
            var copy = ArrayPool<byte>.Shared.Rent(Math.Max(1, tensor.ByteLength));
            tensor.Span.CopyTo(copy);
            inputs[i] = TensorBuffer.FromRented(tensor.Name, tensor.DataType, (long[])tensor.Shape.Clone(), copy, tensor.ByteLength);
        }
        var job = new ShadowJob(shadow.Model, shadow.VersionText, request.Id ?? Guid.NewGuid().ToString("N"), inputs, productionRecord, _time.GetTimestamp());
        if (!_queue.Writer.TryWrite(job))
        {
            Drop(job, ShadowMetrics.QueueFull);
        }
    }

    /// <summary>Drops a copy that will not run and counts it for <paramref name="reason"/>.</summary>
    internal void Drop(ShadowJob job, string reason)
    {
        job.Discard();
        _metrics.Dropped(reason);
    }
}
