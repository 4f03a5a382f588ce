using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Artifacts;
using MlPlatform.Inference.Batching;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Registry;
using MlPlatform.OnlineScorer.Telemetry;
using StackExchange.Redis;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>Where a bare model name sends its traffic: <c>production</c>, and a weighted share to <c>canary</c>.</summary>
internal sealed record ModelRoutes(LoadedVersion? Production, LoadedVersion? Canary, int CanaryWeight)
{
    public static ModelRoutes Empty { get; } = new(null, null, 0);

    public bool Routes(LoadedVersion version) => ReferenceEquals(Production, version) || ReferenceEquals(Canary, version);
}

/// <summary>What the scorer knows about one model: the registry's view, its serving settings and its routes.</summary>
internal sealed class ModelState(string name)
{
    public string Name { get; } = name;

    public SemaphoreSlim Lock { get; } = new(1, 1);

    public ModelDetails? Info { get; set; }

    public ServingSettings Settings { get; set; } = ServingSettings.Default;

    public volatile ModelRoutes Routes = ModelRoutes.Empty;
}

/// <summary>
/// The models this scorer serves: reconciles them with the registry, loads versions (verified artifact, tuned session,
/// warm-up) before publishing them, swaps aliases atomically, loads pinned versions on demand with an LRU cap, and hands
/// out leases so that a replaced version finishes its in-flight requests before it is disposed.
/// </summary>
public sealed class ModelRepository : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ModelState> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Model, int Version), LoadedVersion> _loaded = new();
    private readonly ConcurrentDictionary<(string Model, int Version), Lazy<Task<LoadedVersion>>> _loading = new();
    private readonly RegistryClient _registry;
    private readonly ArtifactCache _artifacts;
    private readonly IOptions<OnnxSessionOptions> _sessionOptions;
    private readonly IOptions<BatchingOptions> _batching;
    private readonly IOptions<InferenceLimitsOptions> _limits;
    private readonly IConnectionMultiplexer _redis;
    private readonly InferenceMetrics _metrics;
    private readonly ILogger<ModelRepository> _logger;
    private readonly object _evictionLock = new();

    public ModelRepository(RegistryClient registry, ArtifactCache artifacts, IOptions<OnnxSessionOptions> sessionOptions,
        IOptions<BatchingOptions> batching, IOptions<InferenceLimitsOptions> limits, IConnectionMultiplexer redis,
        InferenceMetrics metrics, ILogger<ModelRepository> logger)
    {
        _registry = registry;
        _artifacts = artifacts;
        _sessionOptions = sessionOptions;
        _batching = batching;
        _limits = limits;
        _redis = redis;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Versions currently loaded.</summary>
    public int LoadedCount => _loaded.Count;

    /// <summary>Models whose registry entry has a <c>production</c> alias, and how many of them this scorer can serve.</summary>
    public (int Wanted, int Serving) ProductionCoverage()
    {
        int wanted = 0, serving = 0;
        foreach (var state in _models.Values)
        {
            if (state.Info?.FindAlias(AliasNames.Production) is not null)
            {
                wanted++;
                if (state.Routes.Production is not null)
                {
                    serving++;
                }
            }
        }
        return (wanted, serving);
    }

    /// <summary>Reconciles every model the registry lists, and forgets those it no longer lists.</summary>
    /// <exception cref="HttpRequestException">The registry could not be listed.</exception>
    public async Task ReconcileAllAsync(CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var model in _registry.ListAllModelsAsync(cancellationToken))
        {
            names.Add(model.Name);
        }
        foreach (var name in names)
        {
            try
            {
                await ReconcileModelAsync(name, cancellationToken);
            }
            catch (Exception ex) when (IsRegistryFailure(ex, cancellationToken))
            {
                _logger.LogWarning(ex, "Reconciling model {Model} failed; the next reconciliation retries", name);
            }
        }
        foreach (var name in _models.Keys)
        {
            if (!names.Contains(name))
            {
                await ReconcileModelAsync(name, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Brings one model in line with the registry: loads and warms the versions its <c>production</c> and <c>canary</c> aliases
    /// point at, then switches routes atomically and retires the versions no longer routed. A version that fails to load leaves
    /// the current route in place and is reported.
    /// </summary>
    /// <exception cref="HttpRequestException">The registry could not be reached.</exception>
    public async Task ReconcileModelAsync(string name, CancellationToken cancellationToken)
    {
        var state = _models.GetOrAdd(name, n => new ModelState(n));
        await state.Lock.WaitAsync(cancellationToken);
        try
        {
            var info = await _registry.GetModelAsync(name, cancellationToken);
            if (info is null)
            {
                var gone = state.Routes;
                state.Info = null;
                state.Routes = ModelRoutes.Empty;
                foreach (var ((model, _), version) in _loaded)
                {
                    if (model == name)
                    {
                        Retire(version);
                    }
                }
                _models.TryRemove(new KeyValuePair<string, ModelState>(name, state));
                if (gone.Production is not null)
                {
                    _logger.LogInformation("Model {Model} is gone from the registry; unloaded", name);
                }
                return;
            }

            var settings = await _registry.GetServingSettingsAsync(name, cancellationToken);
            state.Info = info;
            state.Settings = settings;
            var current = state.Routes;

            var production = await ResolveAliasAsync(info, settings, info.FindAlias(AliasNames.Production), current.Production, cancellationToken);
            var canaryAlias = info.FindAlias(AliasNames.Canary);
            var canary = await ResolveAliasAsync(info, settings, canaryAlias, current.Canary, cancellationToken);
            var weight = canary is null || canaryAlias?.Weight is not { } w ? 0 : Math.Clamp(w, 0, 100);
            var routes = new ModelRoutes(production, canary, weight);

            foreach (var ((model, _), version) in _loaded)
            {
                if (model == name)
                {
                    ApplySettings(version, settings);
                }
            }
            state.Routes = routes;
            if (!ReferenceEquals(current.Production, production) && production is not null)
            {
                _logger.LogInformation("Model {Model}: production now serves version {Version}", name, production.Version);
            }
            foreach (var old in new[] { current.Production, current.Canary })
            {
                if (old is not null && !routes.Routes(old))
                {
                    // In-flight requests hold leases, so the session is disposed only after they finish.
                    Retire(old);
                }
            }
            EvictBeyondCap();
        }
        finally
        {
            state.Lock.Release();
        }
    }

    private async Task<LoadedVersion?> ResolveAliasAsync(ModelDetails info, ServingSettings settings, AliasInfo? alias,
        LoadedVersion? current, CancellationToken cancellationToken)
    {
        if (alias is null)
        {
            return null;
        }
        if (current is not null && current.Version == alias.Version && !current.IsRetired)
        {
            return current;
        }
        var version = info.FindVersion(alias.Version);
        if (version is null)
        {
            _logger.LogWarning("Alias {Alias} of {Model} points at version {Version}, which the registry did not list", alias.Name, info.Name, alias.Version);
            return current;
        }
        try
        {
            return await GetOrLoadAsync(info.Name, version, settings, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The old version keeps serving; the next reconciliation tries again.
            return current is { IsRetired: false } ? current : null;
        }
    }

    /// <summary>
    /// A lease on the version that serves <paramref name="name"/>: the exact <paramref name="version"/> (loaded on demand), or
    /// the production alias with a weighted share to canary.
    /// </summary>
    /// <exception cref="InferenceProtocolException">404 for an unknown model or version; 503 when it cannot be served yet.</exception>
    public async ValueTask<VersionLease> AcquireAsync(string name, int? version, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var loaded = version is { } v
                ? await GetVersionAsync(name, v, cancellationToken)
                : await GetRoutedAsync(name, cancellationToken);
            if (loaded.TryAcquire())
            {
                if (version is not null)
                {
                    // After the lease: an on-demand version evicted by its own load still serves this request.
                    EvictBeyondCap();
                }
                return new VersionLease(loaded);
            }
            // Retired between lookup and acquire: a swap happened; the next lookup sees the new route.
        }
        throw new InferenceProtocolException($"Model '{name}' is being swapped; retry.", StatusCodes.Status503ServiceUnavailable);
    }

    private async ValueTask<LoadedVersion> GetRoutedAsync(string name, CancellationToken cancellationToken)
    {
        if (!_models.TryGetValue(name, out var state) || state.Routes.Production is null)
        {
            await ReconcileOnDemandAsync(name, cancellationToken);
            if (!_models.TryGetValue(name, out state) || state.Info is null)
            {
                throw new InferenceProtocolException($"Unknown model '{name}'.", StatusCodes.Status404NotFound);
            }
        }
        var routes = state.Routes;
        if (routes.Canary is { } canary && routes.CanaryWeight > 0 && Random.Shared.Next(100) < routes.CanaryWeight)
        {
            return canary;
        }
        if (routes.Production is { } production)
        {
            return production;
        }
        if (state.Info?.FindAlias(AliasNames.Production) is null)
        {
            throw new InferenceProtocolException(
                $"Model '{name}' has no '{AliasNames.Production}' alias; ask for a version with /v2/models/{name}/versions/{{version}}.",
                StatusCodes.Status404NotFound);
        }
        throw new InferenceProtocolException($"Model '{name}' is not loaded yet; retry.", StatusCodes.Status503ServiceUnavailable);
    }

    private async Task ReconcileOnDemandAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await ReconcileModelAsync(name, cancellationToken);
        }
        catch (Exception ex) when (IsRegistryFailure(ex, cancellationToken))
        {
            _logger.LogWarning(ex, "The registry could not be asked about model {Model}", name);
            throw new InferenceProtocolException($"Model '{name}' cannot be looked up in the registry right now; retry.", StatusCodes.Status503ServiceUnavailable);
        }
    }

    private async ValueTask<LoadedVersion> GetVersionAsync(string name, int version, CancellationToken cancellationToken)
    {
        if (_loaded.TryGetValue((name, version), out var loaded) && !loaded.IsRetired)
        {
            return loaded;
        }
        ModelVersion? info;
        ServingSettings settings;
        try
        {
            info = await _registry.GetVersionAsync(name, version, cancellationToken);
            settings = _models.TryGetValue(name, out var state) ? state.Settings : await _registry.GetServingSettingsAsync(name, cancellationToken);
        }
        catch (Exception ex) when (IsRegistryFailure(ex, cancellationToken))
        {
            _logger.LogWarning(ex, "The registry could not be asked about {Model} version {Version}", name, version);
            throw new InferenceProtocolException($"Model '{name}' cannot be looked up in the registry right now; retry.", StatusCodes.Status503ServiceUnavailable);
        }
        if (info is null)
        {
            throw new InferenceProtocolException($"Unknown version '{version}' of model '{name}'.", StatusCodes.Status404NotFound);
        }
        try
        {
            loaded = await GetOrLoadAsync(name, info, settings, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InferenceProtocolException($"Version {version} of model '{name}' could not be loaded: {ex.Message}", StatusCodes.Status503ServiceUnavailable);
        }
        return loaded;
    }

    /// <summary>
    /// Whether <paramref name="ex"/> is the registry failing (unreachable, timed out by the resilience pipeline, malformed answer)
    /// rather than the caller giving up; such failures are retried, never allowed to stop the scorer.
    /// </summary>
    public static bool IsRegistryFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested;

    /// <summary>The loaded version, if any, without loading it (model readiness).</summary>
    public LoadedVersion? FindLoaded(string name, int version) =>
        _loaded.TryGetValue((name, version), out var loaded) && !loaded.IsRetired ? loaded : null;

    /// <summary>The production version currently routed, if loaded.</summary>
    public LoadedVersion? FindProduction(string name) => _models.TryGetValue(name, out var state) ? state.Routes.Production : null;

    /// <summary>The registry's current view of a model (metadata and readiness routes read it fresh: a new version needs no event).</summary>
    /// <exception cref="InferenceProtocolException">404 when the registry does not know the model; 503 when it cannot be reached.</exception>
    public async ValueTask<ModelDetails> DescribeAsync(string name, CancellationToken cancellationToken)
    {
        ModelDetails? info;
        try
        {
            info = await _registry.GetModelAsync(name, cancellationToken);
        }
        catch (Exception ex) when (IsRegistryFailure(ex, cancellationToken))
        {
            _logger.LogWarning(ex, "The registry could not be asked about model {Model}", name);
            throw new InferenceProtocolException($"Model '{name}' cannot be looked up in the registry right now; retry.", StatusCodes.Status503ServiceUnavailable);
        }
        return info ?? throw new InferenceProtocolException($"Unknown model '{name}'.", StatusCodes.Status404NotFound);
    }

    private Task<LoadedVersion> GetOrLoadAsync(string name, ModelVersion version, ServingSettings settings, CancellationToken cancellationToken)
    {
        var key = (name, version.Version);
        if (_loaded.TryGetValue(key, out var loaded) && !loaded.IsRetired && loaded.Sha256 == version.Sha256)
        {
            return Task.FromResult(loaded);
        }
        var lazy = _loading.GetOrAdd(key, _ => new Lazy<Task<LoadedVersion>>(() => LoadAsync(name, version, settings)));
        return lazy.Value.WaitAsync(cancellationToken);
    }

    private async Task<LoadedVersion> LoadAsync(string name, ModelVersion version, ServingSettings settings)
    {
        var key = (name, version.Version);
        try
        {
            var path = await _artifacts.GetAsync(version.Sha256, CancellationToken.None);
            var session = await Task.Run(() => OnnxModel.Load(path, _sessionOptions.Value));
            try
            {
                await Task.Run(() => session.WarmUp(settings.WarmupShapes));
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Warm-up of {Model} version {Version} failed; serving it cold", name, version.Version);
            }
            var loaded = CreateLoadedVersion(name, version, session, settings);
            if (_loaded.TryRemove(key, out var replaced))
            {
                Retire(replaced);
            }
            _loaded[key] = loaded;
            _metrics.LoadedVersions = _loaded.Count;
            _logger.LogInformation("Loaded {Model} version {Version} (sha256 {Sha256})", name, version.Version, version.Sha256);
            return loaded;
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Loading {Model} version {Version} (sha256 {Sha256}) failed", name, version.Version, version.Sha256);
            _metrics.LoadFailed(name, version.Version);
            await PublishLoadFailedAsync(name, version, ex.Message);
            throw;
        }
        finally
        {
            _loading.TryRemove(key, out _);
        }
    }

    private LoadedVersion CreateLoadedVersion(string name, ModelVersion version, OnnxModel session, ServingSettings settings)
    {
        var defaults = _batching.Value;
        DynamicBatcher? batcher = null;
        if (session.Signature.IsBatchable)
        {
            var model = session;
            batcher = new DynamicBatcher(model.Run, model.OutputNames, PolicyFor(settings), defaults.QueueCapacity,
                Math.Clamp(settings.InstanceCount ?? defaults.Instances, 1, 64));
        }
        return new LoadedVersion(name, version, session, batcher, settings, batcher is not null && (settings.Batching?.Enabled ?? defaults.Enabled));
    }

    private BatchingPolicy PolicyFor(ServingSettings settings)
    {
        var defaults = _batching.Value;
        var size = Math.Clamp(settings.Batching?.MaxBatchSize ?? defaults.MaxBatchSize, 1, defaults.MaxBatchSizeLimit);
        var delay = Math.Clamp(settings.Batching?.MaxQueueDelayMs ?? defaults.MaxQueueDelayMs, 0, 1000);
        return new BatchingPolicy(size, TimeSpan.FromMilliseconds(delay));
    }

    private void ApplySettings(LoadedVersion version, ServingSettings settings)
    {
        version.Settings = settings;
        if (version.Batcher is { } batcher)
        {
            batcher.Policy = PolicyFor(settings);
            version.BatchingEnabled = settings.Batching?.Enabled ?? _batching.Value.Enabled;
        }
    }

    private void Retire(LoadedVersion version)
    {
        _loaded.TryRemove(new KeyValuePair<(string, int), LoadedVersion>((version.Model, version.Version), version));
        _metrics.LoadedVersions = _loaded.Count;
        version.Retire();
    }

    /// <summary>
    /// Evicts the least recently used versions that no alias routes to while there are more of them than the cap.
    /// Routed versions are never counted nor evicted: they are what a bare model name serves.
    /// </summary>
    private void EvictBeyondCap()
    {
        var cap = _limits.Value.MaxLoadedVersions;
        lock (_evictionLock)
        {
            while (true)
            {
                LoadedVersion? victim = null;
                var unrouted = 0;
                foreach (var version in _loaded.Values)
                {
                    if (_models.TryGetValue(version.Model, out var state) && state.Routes.Routes(version))
                    {
                        continue;
                    }
                    unrouted++;
                    if (victim is null || version.LastUsed < victim.LastUsed)
                    {
                        victim = version;
                    }
                }
                if (unrouted <= cap || victim is null)
                {
                    return;
                }
                _logger.LogInformation("Evicting {Model} version {Version} (least recently used of {Count} on-demand versions; cap {Cap})",
                    victim.Model, victim.Version, unrouted, cap);
                Retire(victim);
            }
        }
    }

    private async Task PublishLoadFailedAsync(string name, ModelVersion version, string reason)
    {
        try
        {
            var payload = JsonSerializer.Serialize(new RegistryEvent(RegistryEvents.LoadFailed, name, Version: version.Version,
                Sha256: version.Sha256, Reason: reason, At: DateTimeOffset.UtcNow));
            var db = _redis.GetDatabase();
            await db.PublishAsync(RedisChannel.Literal(RegistryEvents.Channel), payload);
            await db.StreamAddAsync(RegistryEvents.LogStream, RegistryEvents.LogStreamField, payload, maxLength: 10_000, useApproximateMaxLength: true);
        }
        catch (RedisException ex)
        {
            _logger.LogWarning(ex, "Could not publish the load-failed event for {Model} version {Version}", name, version.Version);
        }
    }

    /// <summary>Retires every version; each is disposed once its in-flight requests finish.</summary>
    public ValueTask DisposeAsync()
    {
        foreach (var version in _loaded.Values)
        {
            Retire(version);
        }
        return ValueTask.CompletedTask;
    }
}
