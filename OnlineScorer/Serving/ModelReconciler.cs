using MlPlatform.Inference.Registry;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// Brings the scorer's models in line with the registry: loads and warms the versions their <c>production</c> and <c>canary</c> aliases
/// point at before routing to them, switches routes atomically, keeps the versions the registry pins loaded, applies new serving
/// settings to loaded versions, and retires the versions neither routed nor pinned.
/// </summary>
public sealed class ModelReconciler(RegistryClient registry, RouteTable routes, VersionCache versions, ILogger<ModelReconciler> logger)
{
    /// <summary>
    /// Whether <paramref name="ex"/> is the registry failing (unreachable, timed out by the resilience pipeline, malformed answer)
    /// rather than the caller giving up; such failures are retried, never allowed to stop the scorer.
    /// </summary>
    public static bool IsRegistryFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested;

    /// <summary>Reconciles every model the registry lists, and forgets those it no longer lists.</summary>
    /// <exception cref="HttpRequestException">The registry could not be listed.</exception>
    public async Task ReconcileAllAsync(CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var model in registry.ListAllModelsAsync(cancellationToken))
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
                logger.LogWarning(ex, "Reconciling model {Model} failed; the next reconciliation retries", name);
            }
        }
        foreach (var name in routes.Names)
        {
            if (!names.Contains(name))
            {
                await ReconcileModelAsync(name, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Brings one model in line with the registry. A version that fails to load leaves the current route in place and is reported.
    /// </summary>
    /// <exception cref="HttpRequestException">The registry could not be reached.</exception>
    public async Task ReconcileModelAsync(string name, CancellationToken cancellationToken)
    {
        var state = routes.GetOrAdd(name);
        await state.Lock.WaitAsync(cancellationToken);
        // Leases on the versions loaded here keep them from eviction until they are routed (pinned) or given up.
        var leases = new List<VersionLease>(2);
        try
        {
            var info = await registry.GetModelAsync(name, cancellationToken);
            if (info is null)
            {
                Forget(state);
                return;
            }

            var settings = await registry.GetServingSettingsAsync(name, cancellationToken);
            var pins = await registry.GetPinsAsync(name, cancellationToken);
            state.Info = info;
            state.Settings = settings;
            var current = state.Routes;

            var production = await ResolveAliasAsync(info, settings, info.FindAlias(AliasNames.Production), current.Production, leases, cancellationToken);
            var canaryAlias = info.FindAlias(AliasNames.Canary);
            var canary = await ResolveAliasAsync(info, settings, canaryAlias, current.Canary, leases, cancellationToken);
            var weight = canary is null || canaryAlias?.Weight is not { } w ? 0 : Math.Clamp(w, 0, 100);
            var shadowAlias = info.FindAlias(AliasNames.Shadow);
            var shadow = await ResolveAliasAsync(info, settings, shadowAlias, current.Shadow, leases, cancellationToken);
            var shadowWeight = shadow is null || shadowAlias?.Weight is not { } sw ? 0 : Math.Clamp(sw, 0, 100);
            var next = new ModelRoutes(production, canary, weight, shadow, shadowWeight);
            var pinned = await LoadPinnedAsync(state, info, settings, pins, leases, cancellationToken);

            versions.ApplySettings(name, settings);
            foreach (var kept in pinned.Values.Append(production).Append(canary).Append(shadow))
            {
                if (kept is not null)
                {
                    versions.Pin(kept);
                }
            }
            var previouslyPinned = state.Pinned;
            state.Routes = next;
            state.Pinned = pinned;
            if (!ReferenceEquals(current.Production, production) && production is not null)
            {
                logger.LogInformation("Model {Model}: production now serves version {Version}", name, production.Version);
            }
            foreach (var old in new[] { current.Production, current.Canary, current.Shadow })
            {
                if (old is not null && !next.Routes(old) && !pinned.ContainsKey(old.Version))
                {
                    // In-flight requests hold leases, so the session is disposed only after they finish.
                    versions.Retire(old);
                }
            }
            foreach (var (number, old) in previouslyPinned)
            {
                if (!pinned.ContainsKey(number) && !next.Routes(old))
                {
                    // A released pin unloads the version unless an alias routes to it (then it stays served).
                    logger.LogInformation("Model {Model}: the pin of version {Version} was released; unloaded", name, number);
                    versions.Retire(old);
                }
            }
            // A version loaded on demand and archived since is no longer served (/versions/{v}/infer answers 409 once it is gone).
            foreach (var loaded in versions.OfModel(name).ToList())
            {
                if (info.FindVersion(loaded.Version) is { Archived: true } && !next.Routes(loaded) && !pinned.ContainsKey(loaded.Version))
                {
                    versions.Retire(loaded);
                }
            }
        }
        finally
        {
            foreach (var lease in leases)
            {
                lease.Dispose();
            }
            state.Lock.Release();
        }
    }

    private void Forget(ModelState state)
    {
        var gone = state.Routes;
        state.Info = null;
        state.Routes = ModelRoutes.Empty;
        state.Pinned = new Dictionary<int, LoadedVersion>();
        state.PinFailures.Clear();
        foreach (var version in versions.OfModel(state.Name).ToList())
        {
            versions.Retire(version);
        }
        routes.Remove(state);
        if (gone.Production is not null)
        {
            logger.LogInformation("Model {Model} is gone from the registry; unloaded", state.Name);
        }
    }

    /// <summary>
    /// Loads every version the registry pins (a failure is remembered for the repository index and retried by the next reconciliation);
    /// the versions loaded, by number.
    /// </summary>
    private async Task<Dictionary<int, LoadedVersion>> LoadPinnedAsync(ModelState state, ModelDetails info, ServingSettings settings,
        IReadOnlyList<VersionPin> pins, List<VersionLease> leases, CancellationToken cancellationToken)
    {
        var pinned = new Dictionary<int, LoadedVersion>();
        foreach (var pin in pins)
        {
            if (info.FindVersion(pin.Version) is not { Archived: false } version)
            {
                continue;
            }
            var loading = versions.Find(info.Name, version.Version) is null;
            if (loading)
            {
                state.Loading.TryAdd(version.Version, 0);
            }
            try
            {
                var lease = await versions.AcquireAsync(info.Name, version, settings, cancellationToken);
                leases.Add(lease);
                pinned[version.Version] = lease.Version;
                state.PinFailures.TryRemove(version.Version, out _);
                if (loading)
                {
                    logger.LogInformation("Model {Model}: pinned version {Version} loaded", info.Name, version.Version);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Already logged and published by the loader; the next reconciliation tries again.
                state.PinFailures[version.Version] = ex.Message;
            }
            finally
            {
                state.Loading.TryRemove(version.Version, out _);
            }
        }
        foreach (var failed in state.PinFailures.Keys)
        {
            if (!pins.Any(p => p.Version == failed))
            {
                state.PinFailures.TryRemove(failed, out _);
            }
        }
        return pinned;
    }

    private async Task<LoadedVersion?> ResolveAliasAsync(ModelDetails info, ServingSettings settings, AliasInfo? alias,
        LoadedVersion? current, List<VersionLease> leases, CancellationToken cancellationToken)
    {
        if (alias is null)
        {
            return null;
        }
        if (current is not null && current.Version == alias.Version && versions.IsCurrent(current))
        {
            return current;
        }
        var version = info.FindVersion(alias.Version);
        if (version is null)
        {
            logger.LogWarning("Alias {Alias} of {Model} points at version {Version}, which the registry did not list", alias.Name, info.Name, alias.Version);
            return current;
        }
        try
        {
            var lease = await versions.AcquireAsync(info.Name, version, settings, cancellationToken);
            leases.Add(lease);
            return lease.Version;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The old version keeps serving; the next reconciliation tries again.
            return current is not null && versions.IsCurrent(current) ? current : null;
        }
    }
}
