using Microsoft.Extensions.Options;
using MlPlatform.Inference.Protocol;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// Bounds on-demand loads (<c>/versions/{v}/infer</c> of a version not loaded): at most <see cref="InferenceLimitsOptions.MaxConcurrentLoads"/>
/// different versions loading at once, and <see cref="InferenceLimitsOptions.MaxConcurrentLoadsPerKey"/> per API key. Requests for a
/// version already loading join its load (the version cache de-duplicates it) without taking another slot.
/// </summary>
public sealed class OnDemandLoadGate(IOptions<InferenceLimitsOptions> options)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Model, int Version), int> _loading = [];
    private readonly Dictionary<string, HashSet<(string Model, int Version)>> _byKey = new(StringComparer.Ordinal);

    /// <summary>Admits the load of <paramref name="model"/> version <paramref name="version"/> for <paramref name="callerKey"/>; dispose when it ends.</summary>
    /// <exception cref="ScorerOverloadedException">Too many versions are loading.</exception>
    /// <exception cref="InferenceProtocolException">429 when this key is loading its share.</exception>
    public Ticket Enter(string model, int version, string? callerKey)
    {
        var key = (model, version);
        var limits = options.Value;
        lock (_lock)
        {
            if (!_loading.TryGetValue(key, out var joined))
            {
                if (_loading.Count >= limits.MaxConcurrentLoads)
                {
                    throw new ScorerOverloadedException($"{_loading.Count} versions are being loaded on demand, the most this scorer loads at once; retry.");
                }
                if (callerKey is not null && _byKey.TryGetValue(callerKey, out var mine) && mine.Count >= limits.MaxConcurrentLoadsPerKey)
                {
                    throw new InferenceProtocolException(
                        $"This API key is already loading {mine.Count} version(s) on demand, its share; retry when they are loaded.", StatusCodes.Status429TooManyRequests);
                }
            }
            _loading[key] = joined + 1;
            if (callerKey is not null && joined == 0)
            {
                if (!_byKey.TryGetValue(callerKey, out var set))
                {
                    _byKey[callerKey] = set = [];
                }
                set.Add(key);
            }
        }
        return new Ticket(this, key);
    }

    private void Exit((string Model, int Version) key)
    {
        lock (_lock)
        {
            if (_loading[key] > 1)
            {
                _loading[key]--;
                return;
            }
            _loading.Remove(key);
            foreach (var (callerKey, set) in _byKey)
            {
                if (set.Remove(key) && set.Count == 0)
                {
                    _byKey.Remove(callerKey);
                    break;
                }
            }
        }
    }

    /// <summary>A load's place in the gate.</summary>
    public readonly struct Ticket(OnDemandLoadGate gate, (string Model, int Version) key) : IDisposable
    {
        public void Dispose() => gate?.Exit(key);
    }
}
