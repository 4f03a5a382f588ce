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
