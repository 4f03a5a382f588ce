using Microsoft.Extensions.Options;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Payloads;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Shadow;

/// <summary>
/// Runs the queued shadow copies through the same inference core as production (pinned to the shadow version, route
/// <see cref="InferRoute.Shadow"/>: logged with the production request's id, never judged), <see cref="ShadowOptions.Concurrency"/> at a
/// time, each only once production leaves room (<see cref="ShadowGate"/>); a copy that waited too long is dropped and counted (<c>busy</c>).
/// A copy's model run is not cancelled when production arrives while it runs: it is one run at batch size one, and cancelling it would
/// waste it and starve the shadow of every copy longer than the gaps between production's requests.
/// </summary>
public sealed class ShadowWorker(ShadowQueue queue, ShadowGate gate, InferenceService inference, PayloadRecorder payloads, ShadowMetrics metrics,
    IOptions<ShadowOptions> options) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, options.Value.Concurrency).Select(_ => RunAsync(stoppingToken)));

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
            {
                if (!await gate.WaitForRoomAsync(job.AnsweredAt, stoppingToken))
                {
                    queue.Drop(job, ShadowMetrics.Busy);
                    continue;
                }
                // The outcome (a failure included) is recorded in the payload log and the metrics by the core; nobody waits for it.
                var transport = new ShadowTransport(job);
                await inference.InferAsync(new InferCall(job.Model, job.Version, stoppingToken) { Route = InferRoute.Shadow }, transport);
                transport.ReturnUnused();
                metrics.Copied();
                // Production's side of the comparison, held back until its copy ran (null when production's own sample logged it).
                if (job.ProductionRecord is { } record)
                {
                    payloads.Ship(record);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>A shadow copy as a transport: the inputs are already decoded; the response is not encoded (nobody receives it).</summary>
    private sealed class ShadowTransport(ShadowJob job) : IInferTransport<bool>
    {
        /// <summary>Whether the inputs left this transport: handed to the core with the request (it returns them), or returned here.</summary>
        private bool _inputsGone;

        public ValueTask ReceiveAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public InferRequest Decode(ModelSignature signature)
        {
            foreach (var input in job.Inputs)
            {
                if (signature.Inputs.All(spec => spec.Name != input.Name))
                {
                    ReturnUnused();
                    throw new InferenceProtocolException($"The shadow version has no input '{input.Name}': its signature does not fit production's requests.");
                }
            }
            _inputsGone = true;
            return new InferRequest(job.Id, job.Inputs, [], binaryDataOutput: false);
        }

        /// <summary>
        /// Returns the pooled input copies when the core never asked for them (the shadow version could not be leased or loaded, or it was
        /// refused before decoding): without this they would be left to the garbage collector instead of going back to the pool.
        /// </summary>
        public void ReturnUnused()
        {
            if (_inputsGone)
            {
                return;
            }
            _inputsGone = true;
            foreach (var owned in job.Inputs)
            {
                owned.Dispose();
            }
        }

        public bool Encode(InferReply reply) => true;
    }
}
