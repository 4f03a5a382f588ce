using Microsoft.Extensions.Options;
using MlPlatform.Inference.Artifacts;
using MlPlatform.Inference.Batching;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Registry;
using MlPlatform.OnlineScorer.Telemetry;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// Turns a registry version into a <see cref="LoadedVersion"/>: verified artifact, tuned session, warm-up, and a batcher shaped by the
/// serving settings; a failure is logged, counted and published before it is rethrown.
/// </summary>
public sealed class VersionLoader(ArtifactCache artifacts, IOptions<OnnxSessionOptions> sessionOptions, IOptions<BatchingOptions> batching,
    ServingEventPublisher events, InferenceMetrics metrics, ILogger<VersionLoader> logger)
{
    /// <summary>Loads and warms one version.</summary>
    /// <exception cref="Exception">Whatever the artifact fetch or ONNX Runtime threw, after it was reported.</exception>
    public async Task<LoadedVersion> LoadAsync(string name, ModelVersion version, ServingSettings settings)
    {
        // The artifact stays on disk while the version is loaded (the pin goes with the version): the cache never evicts a file in use.
        var pin = artifacts.Pin(version.Sha256);
        try
        {
            var path = await artifacts.GetAsync(version.Sha256, CancellationToken.None);
            var session = await Task.Run(() => OnnxModel.Load(path, sessionOptions.Value));
            try
            {
                await Task.Run(() => session.WarmUp(settings.WarmupShapes));
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Warm-up of {Model} version {Version} failed; serving it cold", name, version.Version);
            }
            var loaded = Create(name, version, session, settings, pin);
            logger.LogInformation("Loaded {Model} version {Version} (sha256 {Sha256})", name, version.Version, version.Sha256);
            return loaded;
        }
        catch (Exception ex)
        {
            pin.Dispose();
            logger.LogError(ex, "Loading {Model} version {Version} (sha256 {Sha256}) failed", name, version.Version, version.Sha256);
            metrics.LoadFailed(name, version.Version);
            await events.PublishLoadFailedAsync(name, version, ex.Message);
            throw;
        }
    }

    /// <summary>Applies a model's new serving settings to a version already loaded (batching policy and switch).</summary>
    public void ApplySettings(LoadedVersion version, ServingSettings settings)
    {
        version.Settings = settings;
        if (version.Batcher is { } batcher)
        {
            batcher.Policy = PolicyFor(settings);
            version.BatchingEnabled = settings.Batching?.Enabled ?? batching.Value.Enabled;
        }
    }

    private LoadedVersion Create(string name, ModelVersion version, OnnxModel session, ServingSettings settings, IDisposable artifactPin)
    {
        var defaults = batching.Value;
        DynamicBatcher? batcher = null;
        if (session.Signature.IsBatchable)
        {
            var model = session;
            batcher = new DynamicBatcher((inputs, outputs, cancellationToken) => model.Run(inputs, outputs, cancellationToken), model.OutputNames,
                PolicyFor(settings), defaults.QueueCapacity,
                Math.Clamp(settings.InstanceCount ?? defaults.Instances, 1, 64));
        }
        return new LoadedVersion(name, version, session, batcher, settings, batcher is not null && (settings.Batching?.Enabled ?? defaults.Enabled))
        {
            ArtifactPin = artifactPin,
        };
    }

    private BatchingPolicy PolicyFor(ServingSettings settings)
    {
        var defaults = batching.Value;
        var size = Math.Clamp(settings.Batching?.MaxBatchSize ?? defaults.MaxBatchSize, 1, defaults.MaxBatchSizeLimit);
        var delay = Math.Clamp(settings.Batching?.MaxQueueDelayMs ?? defaults.MaxQueueDelayMs, 0, 1000);
        return new BatchingPolicy(size, TimeSpan.FromMilliseconds(delay));
    }
}
