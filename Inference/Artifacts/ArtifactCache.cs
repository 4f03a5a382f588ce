using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Registry;

namespace MlPlatform.Inference.Artifacts;

/// <summary>The artifact's bytes do not hash to the SHA-256 it was asked for.</summary>
public sealed class ArtifactHashMismatchException(string expected, string actual)
    : Exception($"Artifact hash mismatch: expected sha256 {expected}, the bytes hash to {actual}.")
{
    /// <summary>The hash that was asked for.</summary>
    public string Expected { get; } = expected;

    /// <summary>The hash of the bytes received.</summary>
    public string Actual { get; } = actual;
}

/// <summary>
/// A local, content-addressed cache of model artifacts fetched from the registry by SHA-256. Every file handed out
/// has been hashed and verified (on download and again on each hit, as a file on disk can rot or be tampered with).
/// Disk use is bounded by <see cref="ArtifactCacheOptions.MaxBytes"/> (<see cref="ArtifactCacheIndex"/>: least recently used first,
/// never a pinned artifact) and reported on the <c>MlPlatform.Artifacts</c> meter.
/// </summary>
public sealed class ArtifactCache
{
    /// <summary>The meter of the cache's instruments.</summary>
    public const string MeterName = "MlPlatform.Artifacts";

    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _inFlight = new();
    private readonly RegistryClient _registry;
    private readonly IOptions<ArtifactCacheOptions> _options;
    private readonly ILogger<ArtifactCache> _logger;
    private readonly ArtifactCacheIndex _index;
    private readonly Counter<long>? _evictions;

    public ArtifactCache(RegistryClient registry, IOptions<ArtifactCacheOptions> options, ILogger<ArtifactCache> logger, IMeterFactory? meterFactory = null)
    {
        _registry = registry;
        _options = options;
        _logger = logger;
        _index = new ArtifactCacheIndex(options.Value.MaxBytes);
        if (meterFactory?.Create(MeterName) is { } meter)
        {
            meter.CreateObservableGauge("mlplatform.artifacts.cache.size", () => _index.TotalBytes, "By", "Bytes of model artifacts in the local cache.");
            meter.CreateObservableGauge("mlplatform.artifacts.cache.limit", () => options.Value.MaxBytes, "By", "The cache's bound (ArtifactCacheOptions:MaxBytes).");
            meter.CreateObservableGauge("mlplatform.artifacts.cache.files", () => _index.Count, "{artifact}", "Artifacts in the local cache.");
            _evictions = meter.CreateCounter<long>("mlplatform.artifacts.cache.evictions", "{artifact}", "Artifacts deleted to keep the cache in its bound.");
        }
    }

    /// <summary>Bytes of artifacts on disk, as the cache counts them.</summary>
    public long TotalBytes => _index.TotalBytes;

    /// <summary>
    /// Keeps the artifact out of eviction until the pin is disposed (a loaded model's file stays, so a reload needs no download).
    /// Pin before <see cref="GetAsync"/> and hold it while the artifact is in use.
    /// </summary>
    public IDisposable Pin(string sha256)
    {
        PathOf(sha256);
        EnsureIndexed();
        return _index.Pin(sha256);
    }

    /// <summary>The cache folder.</summary>
    public string Directory => _options.Value.Directory;

    /// <summary>Whether <paramref name="sha256"/> is 64 lowercase hex digits.</summary>
    public static bool IsValidSha256(string? sha256) =>
        sha256 is { Length: 64 } && sha256.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    /// <summary>Where the artifact lives in the cache (it may not exist yet).</summary>
    /// <exception cref="ArgumentException"><paramref name="sha256"/> is not 64 lowercase hex digits.</exception>
    public string PathOf(string sha256)
    {
        if (!IsValidSha256(sha256))
        {
            throw new ArgumentException($"'{sha256}' is not a lowercase hex SHA-256.", nameof(sha256));
        }
        return Path.Combine(Directory, "sha256", sha256[..2], sha256);
    }

    /// <summary>The path of a verified local copy of the artifact, downloading it from the registry when needed.</summary>
    /// <exception cref="ArtifactHashMismatchException">The registry's bytes do not hash to <paramref name="sha256"/>.</exception>
    /// <exception cref="HttpRequestException">The registry is unreachable or does not have the artifact.</exception>
    public async Task<string> GetAsync(string sha256, CancellationToken cancellationToken)
    {
        var path = PathOf(sha256);
        // Pinned while it is fetched and handed out, so a concurrent fetch of another artifact cannot evict it on the way.
        using var pin = Pin(sha256);
        var lazy = _inFlight.GetOrAdd(sha256, h => new Lazy<Task<string>>(() => FetchAsync(h, path, cancellationToken)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<string>>>(sha256, lazy));
        }
    }

    private async Task<string> FetchAsync(string sha256, string path, CancellationToken cancellationToken)
    {
        if (File.Exists(path))
        {
            var actual = await HashFileAsync(path, cancellationToken);
            if (actual == sha256)
            {
                _index.Touch(sha256, new FileInfo(path).Length);
                return path;
            }
            _logger.LogWarning("Cached artifact {Sha256} hashes to {Actual}; deleting it and fetching again", sha256, actual);
            File.Delete(path);
        }

        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            string hash;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            await using (var hashing = new HashingStream(file))
            {
                await _registry.DownloadArtifactAsync(sha256, hashing, cancellationToken);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
                hash = hashing.HashHex();
            }
            if (hash != sha256)
            {
                throw new ArtifactHashMismatchException(sha256, hash);
            }
            File.Move(temp, path, overwrite: true);
            _logger.LogInformation("Fetched artifact {Sha256} into the cache", sha256);
            _index.Touch(sha256, new FileInfo(path).Length);
            Evict();
            return path;
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Deletes least recently used, unpinned artifacts until the cache is within its bound.</summary>
    private void Evict()
    {
        foreach (var sha256 in _index.TakeEvictable())
        {
            try
            {
                File.Delete(PathOf(sha256));
                _evictions?.Add(1);
                _logger.LogInformation("Evicted artifact {Sha256} from the cache (bound {MaxBytes} bytes)", sha256, _options.Value.MaxBytes);
            }
            catch (IOException ex)
            {
                _logger.LogWarning(ex, "Could not evict artifact {Sha256}", sha256);
            }
        }
        if (_index.TotalBytes > _options.Value.MaxBytes)
        {
            _logger.LogWarning("The artifact cache holds {Bytes} bytes of artifacts in use, more than its bound of {MaxBytes}", _index.TotalBytes,
                _options.Value.MaxBytes);
        }
    }

    /// <summary>Counts the artifacts already on disk (a restart keeps the folder) once, oldest access first.</summary>
    private void EnsureIndexed()
    {
        if (_index.Seeded)
        {
            return;
        }
        var root = Path.Combine(Directory, "sha256");
        var files = System.IO.Directory.Exists(root)
            ? new DirectoryInfo(root).EnumerateFiles("*", SearchOption.AllDirectories).Where(f => IsValidSha256(f.Name)).OrderBy(f => f.LastAccessTimeUtc)
                .Select(f => (f.Name, f.Length)).ToList()
            : [];
        if (_index.Seed(files))
        {
            Evict();
        }
    }

    /// <summary>The lowercase hex SHA-256 of a file.</summary>
    public static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var hash = await SHA256.HashDataAsync(file, cancellationToken);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Hashes what is written through it, so a download is hashed without reading the file twice.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public string HashHex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            inner.Write(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
