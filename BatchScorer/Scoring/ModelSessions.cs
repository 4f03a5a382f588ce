using Microsoft.Extensions.Options;
using MlPlatform.BatchScorer.Jobs;
using MlPlatform.Inference.Artifacts;
using MlPlatform.Inference.Caching;
using MlPlatform.Inference.Onnx;

namespace MlPlatform.BatchScorer.Scoring;

/// <summary>
/// ONNX sessions of the versions jobs pin, by artifact SHA-256: fetched and verified through the shared <see cref="ArtifactCache"/>,
/// loaded once into the shared <see cref="ModelLeaseCache{TKey, TValue}"/>, leased by the chunks in flight, and closed
/// least-recently-used beyond <see cref="BatchWorkerOptions.MaxLoadedModels"/> once no chunk holds them.
/// </summary>
public sealed class ModelSessions : IDisposable
{
    private readonly ModelLeaseCache<string, OnnxModel> _cache;
    private readonly ArtifactCache _artifacts;
    private readonly IOptions<OnnxSessionOptions> _sessionOptions;
    private readonly ILogger<ModelSessions> _logger;

    public ModelSessions(ArtifactCache artifacts, IOptions<OnnxSessionOptions> sessionOptions, IOptions<BatchWorkerOptions> options, ILogger<ModelSessions> logger)
    {
        _artifacts = artifacts;
        _sessionOptions = sessionOptions;
        _logger = logger;
        _cache = new ModelLeaseCache<string, OnnxModel>(LoadAsync, options.Value.MaxLoadedModels, comparer: StringComparer.Ordinal);
    }

    /// <summary>Leases the session of <paramref name="sha256"/>, loading it on first use; dispose the lease when the chunk is done.</summary>
    /// <exception cref="ArtifactHashMismatchException">The registry's bytes do not hash to the pinned SHA-256.</exception>
    /// <exception cref="HttpRequestException">The registry is unreachable.</exception>
    public Task<ModelLeaseCache<string, OnnxModel>.Lease> AcquireAsync(string sha256, CancellationToken cancellationToken) =>
        _cache.AcquireAsync(sha256, cancellationToken);

    private async Task<OnnxModel> LoadAsync(string sha256)
    {
        // Not tied to one chunk's token: a load started for a chunk that gets handed back still serves the next one.
        // Pinned until the session has read the file, so the cache cannot evict it in between.
        using var pin = _artifacts.Pin(sha256);
        var path = await _artifacts.GetAsync(sha256, CancellationToken.None);
        var model = OnnxModel.Load(path, _sessionOptions.Value);
        _logger.LogInformation("Loaded model artifact {Sha256} for batch scoring", sha256);
        return model;
    }

    public void Dispose() => _cache.Dispose();
}
