using MlPlatform.Contracts;
using MlPlatform.ServiceDefaults.Storage;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>
/// Content-addressed artifact files under <c>blobs/sha256/&lt;2 hex&gt;/&lt;64 hex&gt;</c>. An upload is streamed to a temp file while it is hashed,
/// fsynced, then renamed into place, so a blob path only ever holds complete bytes whose name is their hash.
/// </summary>
public sealed class BlobStore(IOptions<StorageOptions> options, RegistryDatabase database, ILogger<BlobStore> logger) : IHostedService
{
    private const int CopyBufferBytes = 81920;
    private readonly string _root = options.Value.BlobsDir;
    // Striped by hash so that two uploads of the same bytes never race between "inspect" and "forget a bad blob".
    private readonly SemaphoreSlim[] _hashLocks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    private string TempDir => Path.Combine(_root, "tmp");

    /// <summary>Where blobs no database row names are moved at start, out of the served <c>sha256/</c> tree, until their retention ends.</summary>
    public string QuarantineDir => Path.Combine(_root, "quarantine");

    /// <summary>The path of the blob with this hash (which need not exist).</summary>
    public string PathFor(string sha256)
    {
        if (!NameRules.IsValidSha256(sha256))
        {
            throw new ArgumentException("Not a lowercase sha256 hex digest.", nameof(sha256));
        }
        return Path.Combine(_root, "sha256", sha256[..2], sha256);
    }

    /// <summary>Streams <paramref name="source"/> to a temp file, hashing as it goes, and fsyncs it.</summary>
    /// <exception cref="ArtifactTooLargeException">More than <paramref name="maxBytes"/> bytes arrived; nothing is kept.</exception>
    public async Task<StagedBlob> StageAsync(Stream source, long maxBytes, CancellationToken cancellationToken)
    {
        DurableFiles.CreateDirectory(TempDir);
        var tempPath = Path.Combine(TempDir, $"{Guid.NewGuid():N}.part");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length = 0;
            await using (var file = new FileStream(tempPath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 0,
                Options = FileOptions.Asynchronous,
            }))
            {
                var buffer = new byte[CopyBufferBytes];
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    length += read;
                    if (length > maxBytes)
                    {
                        throw new ArtifactTooLargeException(maxBytes);
                    }
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                // Durable before the rename: a registered artifact must survive a crash right after the call returns.
                file.Flush(flushToDisk: true);
            }
            return new StagedBlob(tempPath, Convert.ToHexStringLower(hash.GetHashAndReset()), length);
        }
        catch
        {
            File.Delete(tempPath);
            throw;
        }
    }

    /// <summary>Moves a staged file to its content address; when identical bytes are already stored the staged copy is dropped.</summary>
    public string Commit(StagedBlob staged)
    {
        var path = PathFor(staged.Sha256);
        DurableFiles.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            File.Delete(staged.TempPath);
            return path;
        }
        try
        {
            File.Move(staged.TempPath, path, overwrite: false);
            // The registration is only durable once the new directory entry is.
            DurableFiles.FsyncDirectory(Path.GetDirectoryName(path)!);
        }
        catch (IOException) when (File.Exists(path))
        {
            // A concurrent upload of the same bytes won the rename.
            File.Delete(staged.TempPath);
        }
        return path;
    }

    /// <summary>Removes a blob that never became part of the registry (its inspection failed).</summary>
    public void Forget(string sha256) => File.Delete(PathFor(sha256));

    public bool Exists(string sha256) => File.Exists(PathFor(sha256));

    /// <summary>Serialises work on one hash (commit, inspection, forgetting) across concurrent uploads.</summary>
    public async Task<IDisposable> LockAsync(string sha256, CancellationToken cancellationToken)
    {
        var gate = _hashLocks[Convert.ToInt32(sha256[..2], 16) % _hashLocks.Length];
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    /// <summary>
    /// Cleans up what a crash can leave behind: temp files are removed; blobs with no row in <c>blobs</c> (an inspection that never
    /// finished, or blobs of a database that was replaced) are moved to quarantine, never deleted at start; quarantined blobs older
    /// than <see cref="StorageOptions.QuarantineRetentionDays"/> are deleted.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        DurableFiles.CreateDirectory(TempDir);
        foreach (var temp in Directory.EnumerateFiles(TempDir))
        {
            File.Delete(temp);
            logger.LogInformation("Removed orphaned upload {TempFile}", Path.GetFileName(temp));
        }

        var hashRoot = Path.Combine(_root, "sha256");
        if (Directory.Exists(hashRoot))
        {
            var known = await database.ReadKnownBlobsAsync(cancellationToken);
            foreach (var file in Directory.EnumerateFiles(hashRoot, "*", SearchOption.AllDirectories).ToList())
            {
                var name = Path.GetFileName(file);
                if (!known.Contains(name))
                {
                    Quarantine(file);
                }
            }
        }
        PurgeQuarantine();
    }

    private void Quarantine(string file)
    {
        DurableFiles.CreateDirectory(QuarantineDir);
        var name = Path.GetFileName(file);
        var target = Path.Combine(QuarantineDir, name);
        if (File.Exists(target))
        {
            target = Path.Combine(QuarantineDir, $"{name}.{Guid.NewGuid():N}");
        }
        File.Move(file, target);
        // The retention counts from the move, not from the upload.
        File.SetLastWriteTimeUtc(target, DateTime.UtcNow);
        DurableFiles.FsyncDirectory(QuarantineDir);
        DurableFiles.FsyncDirectory(Path.GetDirectoryName(file)!);
        logger.LogWarning("Moved unregistered blob {Sha256} to quarantine (kept {Days} days)", name, options.Value.QuarantineRetentionDays);
    }

    private void PurgeQuarantine()
    {
        if (!Directory.Exists(QuarantineDir))
        {
            return;
        }
        var cutoff = DateTime.UtcNow.AddDays(-options.Value.QuarantineRetentionDays);
        foreach (var file in Directory.EnumerateFiles(QuarantineDir).ToList())
        {
            if (File.GetLastWriteTimeUtc(file) < cutoff)
            {
                File.Delete(file);
                logger.LogInformation("Deleted quarantined blob {File}: older than {Days} days (Storage:QuarantineRetentionDays)",
                    Path.GetFileName(file), options.Value.QuarantineRetentionDays);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}

/// <summary>An upload written to a temp file and fsynced, not yet in the store.</summary>
public sealed record StagedBlob(string TempPath, string Sha256, long Length) : IDisposable
{
    /// <summary>Deletes the temp file if it was not committed.</summary>
    public void Dispose() => File.Delete(TempPath);
}

/// <summary>The upload exceeded the configured maximum artifact size.</summary>
public sealed class ArtifactTooLargeException(long maxBytes)
    : Exception($"The model file is larger than the maximum of {maxBytes} bytes (Registration:MaxArtifactBytes).")
{
    public long MaxBytes { get; } = maxBytes;
}
