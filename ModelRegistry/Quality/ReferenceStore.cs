using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>
/// Drift references given explicitly (today: a batch job's input profile, computed by the batch scorer), one JSON file per model
/// version under <c>{data}/quality/references/{model}/{version}.json</c>, replaced atomically. A version without one is compared with
/// its first logged requests.
/// </summary>
public sealed class ReferenceStore(IOptions<StorageOptions> storage)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private string PathOf(string model, int version) =>
        Path.Combine(storage.Value.DataDir, "quality", "references", model, version.ToString(CultureInfo.InvariantCulture) + ".json");

    public async Task PutAsync(string model, int version, InputProfile profile, CancellationToken cancellationToken)
    {
        var path = PathOf(model, version);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
        {
            await JsonSerializer.SerializeAsync(file, profile, Json, cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The version's stored reference, or null.</summary>
    public async Task<InputProfile?> GetAsync(string model, int version, CancellationToken cancellationToken)
    {
        var path = PathOf(model, version);
        if (!File.Exists(path))
        {
            return null;
        }
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);
        return await JsonSerializer.DeserializeAsync<InputProfile>(file, Json, cancellationToken);
    }

    /// <summary>Why <paramref name="profile"/> cannot be a reference (a sentence naming the field), or null.</summary>
    public static string? Check(InputProfile? profile)
    {
        if (profile is null || profile.Features is not { Count: > 0 })
        {
            return "'features' must list at least one feature profile.";
        }
        if (profile.Rows < 1)
        {
            return "'rows' must be at least 1.";
        }
        foreach (var (feature, index) in profile.Features.Select((f, i) => (f, i)))
        {
            if (string.IsNullOrEmpty(feature.Feature) || feature.Edges is null || feature.Shares is null
                || feature.Shares.Length != feature.Edges.Length + 1 || feature.Edges.Zip(feature.Edges.Skip(1)).Any(p => !(p.Second > p.First))
                || feature.Shares.Any(s => s is < 0 or > 1 || double.IsNaN(s)))
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"'features[{index}]' needs a name, ascending 'edges' and one 'shares' fraction more than edges.");
            }
        }
        return null;
    }
}
