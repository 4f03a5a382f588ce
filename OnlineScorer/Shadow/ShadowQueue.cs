using System.Buffers;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Shadow;

/// <summary>A copy of a production request for the shadow version; owns its input copies.</summary>
internal sealed record ShadowJob(string Model, string Version, string Id, TensorBuffer[] Inputs);

/// <summary>
/// Picks the production requests the <c>shadow</c> alias gets a copy of (its weight, in percent), and holds the copies on a bounded
/// queue that <see cref="ShadowWorker"/> drains at its own pace: a full queue drops the copy and counts it
/// (<c>mlplatform.shadow.dropped</c>), so shadow traffic never waits on or slows production.
/// </summary>
public sealed class ShadowQueue
{
    private readonly Channel<ShadowJob> _queue;
    private readonly RouteTable _routes;
    private readonly Counter<long> _copied;
    private readonly Counter<long> _dropped;

    public ShadowQueue(IOptions<ShadowOptions> options, RouteTable routes, IMeterFactory meterFactory)
    {
        _queue = Channel.CreateBounded<ShadowJob>(new BoundedChannelOptions(options.Value.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait });
        _routes = routes;
        var meter = meterFactory.Create(PlatformTelemetry.InferenceMeter);
        _copied = meter.CreateCounter<long>("mlplatform.shadow.copied", "{request}", "Production requests copied to a shadow version.");
        _dropped = meter.CreateCounter<long>("mlplatform.shadow.dropped", "{request}", "Shadow copies dropped because the shadow queue was full.");
    }

    internal ChannelReader<ShadowJob> Reader => _queue.Reader;

    /// <summary>The shadow version <paramref name="served"/>'s request is copied to (a production request, for the alias's share, with the payload log on); else null.</summary>
    public LoadedVersion? Pick(InferCall call, LoadedVersion served) =>
        call.Route == InferRoute.Routed && served.Settings.PayloadLog is { Enabled: true } && _routes.TryGet(call.Model, out var state)
            ? state.Routes.PickShadow(served)
            : null;

    /// <summary>Queues a copy of <paramref name="request"/>'s inputs for <paramref name="shadow"/>, under the production request's id.</summary>
    public void Enqueue(LoadedVersion shadow, InferRequest request)
    {
        var inputs = new TensorBuffer[request.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            var tensor = request.Inputs[i];
            var copy = ArrayPool<byte>.Shared.Rent(Math.Max(1, tensor.ByteLength));
            tensor.Span.CopyTo(copy);
            inputs[i] = TensorBuffer.FromRented(tensor.Name, tensor.DataType, (long[])tensor.Shape.Clone(), copy, tensor.ByteLength);
        }
        if (_queue.Writer.TryWrite(new ShadowJob(shadow.Model, shadow.VersionText, request.Id ?? Guid.NewGuid().ToString("N"), inputs)))
        {
            _copied.Add(1);
            return;
        }
        foreach (var input in inputs)
        {
            input.Dispose();
        }
        _dropped.Add(1);
    }
}
