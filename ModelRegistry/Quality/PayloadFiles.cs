using MlPlatform.Contracts;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Options;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>
/// The payload log on disk: append-only JSONL files <c>payloads/{model}/{version}/{yyyyMMddHH}.jsonl</c> under the data folder, one per
/// model version and UTC hour of the records' time. Appends are fsynced before the stream entries are acknowledged; readers see whole
/// lines only, so reading while the drainer appends is safe.
/// </summary>
public sealed class PayloadFiles(IOptions<StorageOptions> storage, IOptions<QualityOptions> options, TimeProvider time)
{
    private const string HourFormat = "yyyyMMddHH";

    public string Root => Path.Combine(storage.Value.DataDir, "payloads");

    /// <summary>Appends whole lines (each ending in a newline) to the hour file of <paramref name="hour"/> and fsyncs it.</summary>
    public async Task AppendAsync(string model, int version, DateTimeOffset hour, IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken)
    {
        var path = HourFile(model, version, hour);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);
        foreach (var line in lines)
        {
            await file.WriteAsync(line, cancellationToken);
        }
        await file.FlushAsync(cancellationToken);
        file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// The raw lines of <paramref name="model"/> <paramref name="version"/> whose record time is in [<paramref name="from"/>,
    /// <paramref name="to"/>), oldest first, at most <paramref name="limit"/>.
    /// </summary>
    public async IAsyncEnumerable<(byte[] Line, PayloadRecord Record)> ReadAsync(string model, int version, DateTimeOffset from, DateTimeOffset to,
        int limit, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var count = 0;
        foreach (var path in HourFiles(model, version, from, to))
        {
            await foreach (var line in ReadLinesAsync(path, cancellationToken))
            {
                PayloadRecord? record;
                try
                {
                    record = JsonSerializer.Deserialize<PayloadRecord>(line, PayloadJson.Options);
                }
                catch (JsonException)
                {
                    continue;
                }
                if (record is null || record.At < from || record.At >= to)
                {
                    continue;
                }
                yield return (line, record);
                if (++count >= limit)
                {
                    yield break;
                }
            }
        }
    }

    /// <summary>Deletes hour files older than the retention; returns how many.</summary>
    public int DeleteExpired()
    {
        if (!Directory.Exists(Root))
        {
            return 0;
        }
        var cutoff = time.GetUtcNow().AddDays(-options.Value.PayloadRetentionDays);
        var deleted = 0;
        foreach (var path in Directory.EnumerateFiles(Root, "*.jsonl", SearchOption.AllDirectories))
        {
            if (TryParseHour(path, out var hour) && hour.AddHours(1) <= cutoff)
            {
                File.Delete(path);
                deleted++;
            }
        }
        return deleted;
    }

    private IEnumerable<string> HourFiles(string model, int version, DateTimeOffset from, DateTimeOffset to)
    {
        var dir = VersionDir(model, version);
        if (!Directory.Exists(dir))
        {
            return [];
        }
        var first = Truncate(from);
        return Directory.EnumerateFiles(dir, "*.jsonl")
            .Select(path => (Path: path, Ok: TryParseHour(path, out var hour), Hour: hour))
            .Where(f => f.Ok && f.Hour >= first && f.Hour < to)
            .OrderBy(f => f.Hour)
            .Select(f => f.Path)
            .ToList();
    }

    /// <summary>The file's complete lines, streamed through a small buffer (an hour file can be large); a last line without its newline is still being written.</summary>
    private static async IAsyncEnumerable<byte[]> ReadLinesAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous);
        }
        catch (FileNotFoundException)
        {
            yield break;
        }
        await using (file)
        {
            var buffer = new byte[64 * 1024];
            var filled = 0;
            while (true)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                var read = await file.ReadAsync(buffer.AsMemory(filled), cancellationToken);
                if (read == 0)
                {
                    yield break;
                }
                var scanFrom = filled;
                filled += read;
                var start = 0;
                int end;
                while ((end = Array.IndexOf(buffer, (byte)'\n', Math.Max(start, scanFrom), filled - Math.Max(start, scanFrom))) >= 0)
                {
                    if (end > start)
                    {
                        yield return buffer[start..(end + 1)];
                    }
                    start = end + 1;
                }
                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
            }
        }
    }

    private string VersionDir(string model, int version)
    {
        if (!NameRules.IsValidName(model))
        {
            throw new ArgumentException($"'{model}' is not a valid model name.", nameof(model));
        }
        return Path.Combine(Root, model, version.ToString(CultureInfo.InvariantCulture));
    }

    private string HourFile(string model, int version, DateTimeOffset hour) =>
        Path.Combine(VersionDir(model, version), hour.UtcDateTime.ToString(HourFormat, CultureInfo.InvariantCulture) + ".jsonl");

    private static DateTimeOffset Truncate(DateTimeOffset at) => new(at.UtcDateTime.Year, at.UtcDateTime.Month, at.UtcDateTime.Day, at.UtcDateTime.Hour, 0, 0, TimeSpan.Zero);

    private static bool TryParseHour(string path, out DateTimeOffset hour)
    {
        var ok = DateTime.TryParseExact(Path.GetFileNameWithoutExtension(path), HourFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed);
        hour = ok ? new DateTimeOffset(parsed, TimeSpan.Zero) : default;
        return ok;
    }
}

/// <summary>How the registry reads and writes payload records (the web defaults, as the scorer writes them).</summary>
public static class PayloadJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
