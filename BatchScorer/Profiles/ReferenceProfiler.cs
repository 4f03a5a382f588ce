using Microsoft.Extensions.Options;
using MlPlatform.BatchScorer.Input;
using MlPlatform.BatchScorer.Jobs;
using MlPlatform.BatchScorer.Storage;
using MlPlatform.Inference.Quality;

namespace MlPlatform.BatchScorer.Profiles;

/// <summary>
/// A job's input profile as a drift reference: its rows parsed with the row parsers for the target version's inputs (so an input that
/// does not fit the version is refused naming the field), the first input's features binned by <see cref="InputProfiles"/>, the same
/// code that profiles the registry's live windows.
/// </summary>
public sealed class ReferenceProfiler(JobFiles files, IOptions<ReferenceOptions> options, TimeProvider time)
{
    /// <exception cref="InputRejectedException">The job's input cannot feed <paramref name="inputs"/>, or its first input has no feature axis.</exception>
    public async Task<InputProfile> ProfileAsync(JobManifest manifest, IReadOnlyList<RowInput> inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(inputs);
        var first = inputs[0];
        if (first.RowShape.Length == 0)
        {
            throw new InputRejectedException($"Input '{first.Name}' holds one value per row; drift profiles the columns of [-1, d] (or larger) inputs.");
        }
        var parser = RowParsers.Create(manifest.Format, inputs, manifest.CsvHeader);
        var batch = new RowBatch(inputs, 1);
        var channels = (int)first.RowShape[0];
        var row = new double[first.ElementCount];
        var features = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        long rows = 0, skipped = 0, line = 0;
        string? firstError = null;
        foreach (var chunk in manifest.Chunks.TakeWhile(_ => rows < options.Value.MaxRows))
        {
            var bytes = await files.ReadChunkAsync(manifest.Id, chunk, cancellationToken);
            foreach (var text in InputScanner.EnumerateLines(bytes))
            {
                line++;
                if (rows >= options.Value.MaxRows)
                {
                    break;
                }
                // Slot 0 is rewritten for every row: nothing is committed, the values are copied out at once.
                if (!parser.TryParse(text.Span, batch, out var error))
                {
                    skipped++;
                    firstError ??= $"row {line}: {error}";
                    continue;
                }
                CopyRow(batch.Buffers[0], row);
                InputProfiles.AddRow(features, first.Name, channels, row);
                rows++;
            }
        }
        if (rows == 0)
        {
            throw new InputRejectedException($"No row of job {manifest.Id} fits the version's inputs; the first: {firstError ?? "the job has no rows"}");
        }
        return new InputProfile(InputProfile.BatchJob, manifest.Id, rows, skipped, time.GetUtcNow(),
            features.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => InputProfiles.Profile(f.Key, f.Value)).ToList());
    }

    private static void CopyRow(Array buffer, double[] row)
    {
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = buffer switch
            {
                float[] f => f[i],
                double[] d => d[i],
                int[] n => n[i],
                long[] l => l[i],
                bool[] b => b[i] ? 1 : 0,
                _ => 0,
            };
        }
    }
}
