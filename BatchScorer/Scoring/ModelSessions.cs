using Microsoft.Extensions.Options;
using MlPlatform.BatchScorer.Jobs;
using MlPlatform.Inference.Artifacts;
using MlPlatform.Inference.Onnx;

namespace MlPlatform.BatchScorer.Scoring;

/// <summary>
/// ONNX sessions of the versions jobs pin, by artifact SHA-256: fetched and verified through the shared <see cref="ArtifactCache"/>,
/// loaded once, shared by the chunks in flight, and closed least-recently-used beyond <see cref="BatchWorkerOptions.MaxLoadedModels"/> once no chunk holds them.
/// </summary>
public sealed class ModelSessions(ArtifactCache artifacts, IOptions<OnnxSessionOptions> sessionOptions, IOptions<BatchWorkerOptions> options, ILogger<ModelSessions> logger) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>A session held for the duration of one chunk.</summary>
    public sealed class Lease(ModelSessions owner, Entry entry, OnnxModel model) : IDisposable
    {
        public OnnxModel Model { get; } = model;

        public void Dispose() => owner.Release(entry);
    }

    public sealed class Entry(Task<OnnxModel> loading)
    {
        public Task<OnnxModel> Loading { get; } = loading;
        public int Holders;
        public long LastUsed;
    }

    /// <summary>Leases the session of <paramref name="sha256"/>, loading it on first use.</summary>
    /// <exception cref="ArtifactHashMismatchException">The registry's bytes do not hash to the pinned SHA-256.</exception>
    /// <exception cref="HttpRequestException">The registry is unreachable.</exception>
    public async Task<Lease> AcquireAsync(string sha256, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_gate)
        {
            if (!_entries.TryGetValue(sha256, out entry!) || entry.Loading.IsFaulted || entry.Loading.IsCanceled)
            {
                entry = new Entry(LoadAsync(sha256));
                _entries[sha256] = entry;
            }
            entry.Holders++;
            entry.LastUsed = Environment.TickCount64;
        }
        try
        {
            var model = await entry.Loading.WaitAsync(cancellationToken);
            return new Lease(this, entry, model);
        }
        catch
        {
            Release(entry);
            throw;
        }
    }

    private async Task<OnnxModel> LoadAsync(string sha256)
    {
        // Not tied to one chunk's token: a load started for a chunk that gets handed back still serves the next one.
        var path = await artifacts.GetAsync(sha256, CancellationToken.None);
        var model = await Task.Run(() => OnnxModel.Load(path, sessionOptions.Value));
        logger.LogInformation("Loaded model artifact {Sha256} for batch scoring", sha256);
        return model;
    }

    private void Release(Entry entry)
    {
        List<Entry> evicted = [];
        lock (_gate)
        {
            entry.Holders--;
            var idle = _entries.Where(e => e.Value.Holders == 0 && e.Value.Loading.IsCompletedSuccessfully)
                .OrderBy(e => e.Value.LastUsed).ToList();
            var excess = _entries.Count - options.Value.MaxLoadedModels;
            foreach (var (sha, candidate) in idle.Take(Math.Max(0, excess)))
            {
                _entries.Remove(sha);
                evicted.Add(candidate);
            }
        }
        foreach (var candidate in evicted)
        {
            candidate.Loading.Result.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var entry in _entries.Values.Where(e => e.Loading.IsCompletedSuccessfully))
            {
                entry.Loading.Result.Dispose();
            }
            _entries.Clear();
        }
    }
}
