using Microsoft.Extensions.Options;
using MlPlatform.Inference.Caching;
using MlPlatform.Inference.Registry;
using MlPlatform.OnlineScorer.Telemetry;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// The versions loaded in this scorer, in the shared <see cref="ModelLeaseCache{TKey, TValue}"/>: one load per version however many
/// requests ask at once, a lease per request so that a retired version finishes its in-flight requests before it is disposed, and the
/// least recently used versions no alias routes to evicted beyond <see cref="InferenceLimitsOptions.MaxLoadedVersions"/>
/// (routed versions are pinned: never counted nor evicted).
/// </summary>
public sealed class VersionCache : IDisposable
{
    private readonly ModelLeaseCache<(string Model, int Version), LoadedVersion> _cache;
    private readonly VersionLoader _loader;
    private readonly InferenceMetrics _metrics;
    private readonly ILogger<VersionCache> _logger;

    public VersionCache(VersionLoader loader, IOptions<InferenceLimitsOptions> limits, InferenceMetrics metrics, ILogger<VersionCache> logger)
    {
        _loader = loader;
        _metrics = metrics;
        _logger = logger;
        _cache = new(load: null, limits.Value.MaxLoadedVersions, OnEvicted);
    }

    /// <summary>Versions currently loaded.</summary>
    public int Count => _cache.Count;

    /// <summary>The loaded version, if any, without loading it.</summary>
    public LoadedVersion? Find(string name, int version) => _cache.TryPeek((name, version), out var loaded) ? loaded : null;

    /// <summary>Whether <paramref name="version"/> is still the one loaded for its key (not retired).</summary>
    public bool IsCurrent(LoadedVersion version) => Find(version.Model, version.Version) == version;

    /// <summary>Leases <paramref name="version"/>, loading it unless the same artifact is loaded; concurrent callers share one load.</summary>
    /// <exception cref="Exception">The load failed (already logged, counted and published).</exception>
    public async Task<VersionLease> AcquireAsync(string name, ModelVersion version, ServingSettings settings, CancellationToken cancellationToken)
    {
        var key = (name, version.Version);
        if (_cache.TryPeek(key, out var loaded) && loaded.Sha256 != version.Sha256)
        {
            // The registry serves other bytes under this version: the old session finishes its requests and goes.
            Retire(loaded);
        }
        var lease = await _cache.AcquireAsync(key, k => _loader.LoadAsync(k.Model, version, settings), cancellationToken);
        _metrics.LoadedVersions = _cache.Count;
        return new VersionLease(lease);
    }

    /// <summary>Leases <paramref name="version"/> if it is still loaded; false once it was retired.</summary>
    public bool TryAcquire(LoadedVersion version, out VersionLease lease)
    {
        if (_cache.TryAcquire((version.Model, version.Version), out var held))
        {
            if (held.Value == version)
            {
                lease = new VersionLease(held);
                return true;
            }
            held.Dispose();
        }
        lease = default;
        return false;
    }

    /// <summary>Leases a loaded version by number, without loading it.</summary>
    public bool TryAcquire(string name, int version, out VersionLease lease)
    {
        var found = _cache.TryAcquire((name, version), out var held);
        lease = found ? new VersionLease(held!) : default;
        return found;
    }

    /// <summary>Marks versions an alias routes to: they are neither counted against the cap nor evicted.</summary>
    public void Pin(LoadedVersion version) => _cache.SetPinned((version.Model, version.Version), true);

    /// <summary>Takes a version out of service: no new requests; disposed after the in-flight ones.</summary>
    public void Retire(LoadedVersion version)
    {
        _cache.Remove((version.Model, version.Version), version);
        _metrics.LoadedVersions = _cache.Count;
    }

    /// <summary>The versions of one model currently loaded.</summary>
    public IEnumerable<LoadedVersion> OfModel(string name)
    {
        foreach (var ((model, _), version) in _cache.Snapshot())
        {
            if (model == name)
            {
                yield return version;
            }
        }
    }

    /// <summary>Applies a model's serving settings to every loaded version of it.</summary>
    public void ApplySettings(string name, ServingSettings settings)
    {
        foreach (var version in OfModel(name))
        {
            _loader.ApplySettings(version, settings);
        }
    }

    private void OnEvicted(ModelEviction<(string Model, int Version), LoadedVersion> eviction)
    {
        _logger.LogInformation("Evicting {Model} version {Version} (least recently used of {Count} on-demand versions; cap {Cap})",
            eviction.Key.Model, eviction.Key.Version, eviction.Count, eviction.Capacity);
        _metrics.LoadedVersions = _cache.Count;
    }

    /// <summary>Retires every version; each is disposed once its in-flight requests finish.</summary>
    public void Dispose() => _cache.Dispose();
}
