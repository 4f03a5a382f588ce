using System.Collections.Concurrent;
using MlPlatform.Inference.Registry;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// Where a bare model name sends its traffic: <c>production</c>, and a weighted share to <c>canary</c>; <c>shadow</c> receives copies of
/// a weighted share of production's requests.
/// </summary>
internal sealed record ModelRoutes(LoadedVersion? Production, LoadedVersion? Canary, int CanaryWeight, LoadedVersion? Shadow = null, int ShadowWeight = 0)
{
    public static ModelRoutes Empty { get; } = new(null, null, 0);

    public bool Routes(LoadedVersion version) =>
        ReferenceEquals(Production, version) || ReferenceEquals(Canary, version) || ReferenceEquals(Shadow, version);

    /// <summary>The shadow version a production request answered by <paramref name="served"/> is copied to, for its weighted share; else null.</summary>
    public LoadedVersion? PickShadow(LoadedVersion served) =>
        Shadow is { } shadow && ShadowWeight > 0 && ReferenceEquals(served, Production) && Random.Shared.Next(100) < ShadowWeight ? shadow : null;

    /// <summary>The version a request goes to: canary for its weighted share, production otherwise (null when none is loaded).</summary>
    public LoadedVersion? Pick() =>
        Canary is { } canary && CanaryWeight > 0 && Random.Shared.Next(100) < CanaryWeight ? canary : Production;
}

/// <summary>What the scorer knows about one model: the registry's view, its serving settings and its routes.</summary>
internal sealed class ModelState(string name)
{
    public string Name { get; } = name;

    /// <summary>Serialises reconciliations of this model.</summary>
    public SemaphoreSlim Lock { get; } = new(1, 1);

    public ModelDetails? Info { get; set; }

    public ServingSettings Settings { get; set; } = ServingSettings.Default;

    public volatile ModelRoutes Routes = ModelRoutes.Empty;

    /// <summary>The versions the registry pins that are loaded here, by version (replaced whole by each reconciliation).</summary>
    public volatile IReadOnlyDictionary<int, LoadedVersion> Pinned = new Dictionary<int, LoadedVersion>();

    /// <summary>Versions being loaded for a pin or a repository load request right now (the index reports them as LOADING).</summary>
    public ConcurrentDictionary<int, byte> Loading { get; } = new();

    /// <summary>Why a pinned version could not be loaded here, until a later attempt succeeds or the pin is released.</summary>
    public ConcurrentDictionary<int, string> PinFailures { get; } = new();
}

/// <summary>A version's state in Triton's repository index on this replica, and why it is not ready.</summary>
public readonly record struct RepositoryState(string State, string Reason)
{
    public const string Ready = "READY";
    public const string Unavailable = "UNAVAILABLE";
    public const string Loading = "LOADING";
}

/// <summary>The models this scorer knows, by name; written by <see cref="ModelReconciler"/>, read by <see cref="ModelRepository"/>.</summary>
public sealed class RouteTable
{
    private readonly ConcurrentDictionary<string, ModelState> _models = new(StringComparer.Ordinal);

    internal ModelState GetOrAdd(string name) => _models.GetOrAdd(name, n => new ModelState(n));

    internal bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ModelState? state) => _models.TryGetValue(name, out state);

    internal void Remove(ModelState state) => _models.TryRemove(new KeyValuePair<string, ModelState>(state.Name, state));

    /// <summary>Names of the models known.</summary>
    public ICollection<string> Names => _models.Keys;

    /// <summary>
    /// The state of a version as Triton's repository index reports it: READY when <paramref name="loaded"/>, LOADING while a pin or
    /// load request loads it, UNAVAILABLE with the reason otherwise.
    /// </summary>
    public RepositoryState StateOf(string name, int version, bool loaded)
    {
        _models.TryGetValue(name, out var state);
        if (loaded)
        {
            return new(RepositoryState.Ready, "");
        }
        if (state is not null && state.Loading.ContainsKey(version))
        {
            return new(RepositoryState.Loading, "loading on this replica");
        }
        if (state is not null && state.PinFailures.TryGetValue(version, out var failure))
        {
            return new(RepositoryState.Unavailable, $"pinned, but loading it failed on this replica: {failure}");
        }
        return new(RepositoryState.Unavailable,
            "not loaded on this replica: versions an alias routes to or a load request pinned are loaded at once, others by their first request");
    }

    /// <summary>The production version currently routed, if loaded.</summary>
    public LoadedVersion? FindProduction(string name) => _models.TryGetValue(name, out var state) ? state.Routes.Production : null;

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
}
