using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Registry;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// The models as requests see them: routes a bare model name to its <c>production</c> version (a weighted share to <c>canary</c>),
/// a pinned version number to that version (loaded on demand), and hands out the lease a request holds while it runs.
/// </summary>
public sealed class ModelRepository(RegistryClient registry, RouteTable routes, VersionCache versions, ModelReconciler reconciler,
    OnDemandLoadGate loads, ILogger<ModelRepository> logger)
{
    /// <summary>Versions currently loaded.</summary>
    public int LoadedCount => versions.Count;

    /// <summary>Models whose registry entry has a <c>production</c> alias, and how many of them this scorer can serve.</summary>
    public (int Wanted, int Serving) ProductionCoverage() => routes.ProductionCoverage();

    /// <summary>Whether the registry has told this scorer about <paramref name="name"/> (a model a client did not make up).</summary>
    public bool Knows(string name) => routes.TryGet(name, out _);

    /// <summary>
    /// A lease on the version that serves <paramref name="name"/>: the exact <paramref name="version"/> (loaded on demand), or
    /// the production alias with a weighted share to canary.
    /// </summary>
    /// <param name="callerKey">The API key asking (on-demand loads are limited per key); null inside the platform.</param>
    /// <exception cref="InferenceProtocolException">
    /// 404 for an unknown model or version; 409 for an archived version; 503 when it cannot be served yet or too many versions are loading;
    /// 429 when <paramref name="callerKey"/> is loading its share of versions.
    /// </exception>
    public async ValueTask<VersionLease> AcquireAsync(string name, int? version, string? callerKey, CancellationToken cancellationToken)
    {
        RequirePossibleName(name);
        if (version is { } v)
        {
            return await AcquireVersionAsync(name, v, callerKey, cancellationToken);
        }
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var routed = await GetRoutedAsync(name, cancellationToken);
            if (versions.TryAcquire(routed, out var lease))
            {
                return lease;
            }
            // Retired between lookup and acquire: a swap happened; the next lookup sees the new route.
        }
        throw new InferenceProtocolException($"Model '{name}' is being swapped; retry.", StatusCodes.Status503ServiceUnavailable);
    }

    private async ValueTask<LoadedVersion> GetRoutedAsync(string name, CancellationToken cancellationToken)
    {
        if (!routes.TryGet(name, out var state) || state.Routes.Production is null)
        {
            await ReconcileOnDemandAsync(name, cancellationToken);
            if (!routes.TryGet(name, out state) || state.Info is null)
            {
                throw new InferenceProtocolException($"Unknown model '{name}'.", StatusCodes.Status404NotFound);
            }
        }
        if (state.Routes.Pick() is { } picked)
        {
            return picked;
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
            await reconciler.ReconcileModelAsync(name, cancellationToken);
        }
        catch (Exception ex) when (ModelReconciler.IsRegistryFailure(ex, cancellationToken))
        {
            logger.LogWarning(ex, "The registry could not be asked about model {Model}", name);
            throw new InferenceProtocolException($"Model '{name}' cannot be looked up in the registry right now; retry.", StatusCodes.Status503ServiceUnavailable);
        }
    }

    private async ValueTask<VersionLease> AcquireVersionAsync(string name, int version, string? callerKey, CancellationToken cancellationToken)
    {
        if (versions.TryAcquire(name, version, out var lease))
        {
            return lease;
        }
        ModelVersion? info;
        ServingSettings settings;
        try
        {
            info = await registry.GetVersionAsync(name, version, cancellationToken);
            settings = routes.TryGet(name, out var state) ? state.Settings : await registry.GetServingSettingsAsync(name, cancellationToken);
        }
        catch (Exception ex) when (ModelReconciler.IsRegistryFailure(ex, cancellationToken))
        {
            logger.LogWarning(ex, "The registry could not be asked about {Model} version {Version}", name, version);
            throw new InferenceProtocolException($"Model '{name}' cannot be looked up in the registry right now; retry.", StatusCodes.Status503ServiceUnavailable);
        }
        if (info is null)
        {
            throw new InferenceProtocolException($"Unknown version '{version}' of model '{name}'.", StatusCodes.Status404NotFound);
        }
        if (info.Archived)
        {
            // The batch scorer's status and wording for the same refusal.
            throw new InferenceProtocolException($"Version {info.Version} of model '{name}' is archived.", StatusCodes.Status409Conflict);
        }
        using var ticket = loads.Enter(name, version, callerKey);
        try
        {
            return await versions.AcquireAsync(name, info, settings, cancellationToken);
        }
        catch (InferenceProtocolException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new VersionLoadException($"Version {version} of model '{name}' could not be loaded: {ex.Message}", ex);
        }
    }

    /// <summary>The loaded version, if any, without loading it (model readiness).</summary>
    public LoadedVersion? FindLoaded(string name, int version) => versions.Find(name, version);

    /// <summary>The production version currently routed, if loaded.</summary>
    public LoadedVersion? FindProduction(string name) => routes.FindProduction(name);

    /// <summary>The version's state on this replica as Triton's repository index reports it.</summary>
    public RepositoryState StateOf(string name, int version) => routes.StateOf(name, version, versions.Find(name, version) is not null);

    /// <summary>The registry's current view of a model (metadata and readiness routes read it fresh: a new version needs no event).</summary>
    /// <exception cref="InferenceProtocolException">404 when the registry does not know the model; 503 when it cannot be reached.</exception>
    public async ValueTask<ModelDetails> DescribeAsync(string name, CancellationToken cancellationToken)
    {
        RequirePossibleName(name);
        ModelDetails? info;
        try
        {
            info = await registry.GetModelAsync(name, cancellationToken);
        }
        catch (Exception ex) when (ModelReconciler.IsRegistryFailure(ex, cancellationToken))
        {
            logger.LogWarning(ex, "The registry could not be asked about model {Model}", name);
            throw new InferenceProtocolException($"Model '{name}' cannot be looked up in the registry right now; retry.", StatusCodes.Status503ServiceUnavailable);
        }
        return info ?? throw new InferenceProtocolException($"Unknown model '{name}'.", StatusCodes.Status404NotFound);
    }

    /// <summary>
    /// A name the registry could never have given a model (upper case, a space, '%ff') is an unknown model: 404, the client's mistake.
    /// Asked about it, the registry answers 400, which the lookup would report as "cannot be looked up right now; retry" (503), an
    /// answer that invites endless retries, escapes the client-error budget and costs a registry call per request.
    /// </summary>
    /// <exception cref="InferenceProtocolException">404 when <paramref name="name"/> breaks <see cref="NameRules"/>.</exception>
    public static void RequirePossibleName(string name)
    {
        if (!NameRules.IsValidName(name))
        {
            throw new InferenceProtocolException($"Unknown model '{name}'. {NameRules.NameRule}", StatusCodes.Status404NotFound);
        }
    }
}
