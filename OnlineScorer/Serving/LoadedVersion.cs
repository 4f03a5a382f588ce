using System.Diagnostics;
using System.Globalization;
using MlPlatform.Inference.Batching;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Registry;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// One model version in memory: its session, batcher and serving settings. Reference counted: the repository holds one
/// reference while the version is loaded and every request holds one through a <see cref="VersionLease"/>, so a retired
/// version is disposed only after its in-flight requests finish.
/// </summary>
public sealed class LoadedVersion
{
    private readonly DynamicBatcher? _batcher;
    private int _references = 1;
    private int _retired;
    private long _lastUsed = Stopwatch.GetTimestamp();

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

    public bool IsRetired => Volatile.Read(ref _retired) != 0;

    /// <summary><see cref="Stopwatch"/> timestamp of the last lease, for least-recently-used eviction.</summary>
    public long LastUsed => Volatile.Read(ref _lastUsed);

    /// <summary>Takes a reference for one request, unless the version has already been released for good.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref _references);
            if (current <= 0)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current)
            {
                Volatile.Write(ref _lastUsed, Stopwatch.GetTimestamp());
                return true;
            }
        }
    }

    /// <summary>Drops a request's reference; the last one out disposes the session.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _ = DisposeAsync();
        }
    }

    /// <summary>Drops the repository's reference once: no new requests, disposal after the in-flight ones.</summary>
    public void Retire()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 0)
        {
            Release();
        }
    }

    private async Task DisposeAsync()
    {
        if (_batcher is not null)
        {
            await _batcher.DisposeAsync();
        }
        Session.Dispose();
    }
}

/// <summary>A request's hold on a <see cref="LoadedVersion"/>; dispose to release it.</summary>
public readonly struct VersionLease(LoadedVersion version) : IDisposable
{
    public LoadedVersion Version { get; } = version;

    public void Dispose() => Version.Release();
}
