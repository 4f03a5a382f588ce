using System.Globalization;
using MlPlatform.Inference.Batching;
using MlPlatform.Inference.Caching;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Registry;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// One model version in memory: its session, batcher and serving settings. Requests hold it through a <see cref="VersionLease"/> on
/// the <see cref="VersionCache"/>, which disposes it only after it was retired or evicted and its in-flight requests finished.
/// </summary>
public sealed class LoadedVersion : IAsyncDisposable
{
    private readonly DynamicBatcher? _batcher;

    public LoadedVersion(string model, ModelVersion version, OnnxModel session, DynamicBatcher? batcher, ServingSettings settings, bool batchingEnabled)
    {
        Model = model;
        Version = version.Version;
        VersionText = version.Version.ToString(CultureInfo.InvariantCulture);
        Sha256 = version.Sha256;
        Session = session;
        _batcher = batcher;
        Settings = settings;
        BatchingEnabled = batchingEnabled;
    }

    public string Model { get; }

    public int Version { get; }

    /// <summary>The version as the protocol prints it (a string).</summary>
    public string VersionText { get; }

    public string Sha256 { get; }

    public OnnxModel Session { get; }

    public ModelSignature Signature => Session.Signature;

    /// <summary>The model's serving settings, refreshed by every reconciliation.</summary>
    public ServingSettings Settings { get; set; }

    /// <summary>Whether requests go through the batcher (the model is batchable and batching is switched on).</summary>
    public bool BatchingEnabled { get; set; }

    public DynamicBatcher? Batcher => _batcher;

    /// <summary>Keeps the artifact in the local cache while the version is loaded; released on dispose.</summary>
    public IDisposable? ArtifactPin { get; init; }

    /// <summary>Stops the batcher and closes the session; called by the cache once no request holds the version.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_batcher is not null)
        {
            await _batcher.DisposeAsync();
        }
        Session.Dispose();
        ArtifactPin?.Dispose();
    }
}

/// <summary>A request's hold on a <see cref="LoadedVersion"/>; dispose to release it.</summary>
public readonly struct VersionLease(ModelLeaseCache<(string Model, int Version), LoadedVersion>.Lease lease) : IDisposable
{
    public LoadedVersion Version => lease.Value;

    public void Dispose() => lease?.Dispose();
}
