using Microsoft.Extensions.Options;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Shadow;

/// <summary>
/// Runs the queued shadow copies through the same inference core as production (pinned to the shadow version, route
/// <see cref="InferRoute.Shadow"/>: logged with the production request's id, never judged), <see cref="ShadowOptions.Concurrency"/> at a time.
/// </summary>
public sealed class ShadowWorker(ShadowQueue queue, InferenceService inference, IOptions<ShadowOptions> options) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, options.Value.Concurrency).Select(_ => RunAsync(stoppingToken)));

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
            {
                // The outcome (a failure included) is recorded in the payload log and the metrics by the core; nobody waits for it.
                await inference.InferAsync(new InferCall(job.Model, job.Version, stoppingToken) { Route = InferRoute.Shadow }, new ShadowTransport(job));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>A shadow copy as a transport: the inputs are already decoded; the response is not encoded (nobody receives it).</summary>
    private sealed class ShadowTransport(ShadowJob job) : IInferTransport<bool>
    {
        public ValueTask ReceiveAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public InferRequest Decode(ModelSignature signature)
        {
            foreach (var input in job.Inputs)
            {
                if (signature.Inputs.All(spec => spec.Name != input.Name))
                {
                    foreach (var owned in job.Inputs)
                    {
                        owned.Dispose();
                    }
                    throw new InferenceProtocolException($"The shadow version has no input '{input.Name}': its signature does not fit production's requests.");
                }
            }
            return new InferRequest(job.Id, job.Inputs, [], binaryDataOutput: false);
        }

        public bool Encode(InferReply reply) => true;
    }
}
