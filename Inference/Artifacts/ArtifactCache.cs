using System.Collections.Concurrent;
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
/// </summary>
public sealed class ArtifactCache(RegistryClient registry, IOptions<ArtifactCacheOptions> options, ILogger<ArtifactCache> logger)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _inFlight = new();

    /// <summary>The cache folder.</summary>
    public string Directory => options.Value.Directory;

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
                return path;
            }
            logger.LogWarning("Cached artifact {Sha256} hashes to {Actual}; deleting it and fetching again", sha256, actual);
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
                await registry.DownloadArtifactAsync(sha256, hashing, cancellationToken);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
                hash = hashing.HashHex();
            }
            if (hash != sha256)
            {
                throw new ArtifactHashMismatchException(sha256, hash);
            }
            File.Move(temp, path, overwrite: true);
            logger.LogInformation("Fetched artifact {Sha256} into the cache", sha256);
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
