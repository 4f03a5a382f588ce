using System.Globalization;
using System.Text;
using System.Text.Json;
using MlPlatform.BatchScorer.Jobs;
using MlPlatform.BatchScorer.Storage;

namespace MlPlatform.BatchScorer.Results;

/// <summary>
/// Streams a job's results in input order by concatenating its published chunk files. While the job runs, chunks not yet published
/// are skipped, so every line present is final and rows only ever appear in increasing order.
/// </summary>
public sealed class ResultReader(JobFiles files)
{
    public async Task WriteJsonlAsync(JobManifest manifest, Stream output, CancellationToken cancellationToken)
    {
        foreach (var chunk in manifest.Chunks)
        {
            var path = files.ChunkResultPath(manifest.Id, chunk.Index);
            if (!File.Exists(path))
            {
                continue;
            }
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await file.CopyToAsync(output, cancellationToken);
        }
    }

    /// <summary>CSV columns: <c>row</c>, then each output flattened (<c>probabilities_0</c>, <c>probabilities_1</c>, …; a scalar output keeps its name), then <c>error</c>.</summary>
    public async Task WriteCsvAsync(JobManifest manifest, Stream output, CancellationToken cancellationToken)
    {
        var columns = CsvColumns(manifest.Outputs);
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 64 * 1024, leaveOpen: true);
        await writer.WriteLineAsync(string.Join(',', ["row", .. columns.Select(c => c.Header), "error"]));
        var values = new string[columns.Count];
        foreach (var chunk in manifest.Chunks)
        {
            var path = files.ChunkResultPath(manifest.Id, chunk.Index);
            if (!File.Exists(path))
            {
                continue;
            }
            using var reader = new StreamReader(path, Encoding.UTF8);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                var row = root.GetProperty("row").GetInt64().ToString(CultureInfo.InvariantCulture);
                Array.Fill(values, "");
                var error = "";
                if (root.TryGetProperty("error", out var errorElement))
                {
                    error = Quote(errorElement.GetString() ?? "");
                }
                else
                {
                    var outputs = root.GetProperty("outputs");
                    var column = 0;
                    foreach (var spec in manifest.Outputs)
                    {
                        if (outputs.TryGetProperty(spec.Name, out var tensor))
                        {
                            Flatten(tensor, values, ref column);
                        }
                    }
                }
                await writer.WriteLineAsync(string.Join(',', [row, .. values, error]));
            }
        }
        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>CSV needs a fixed number of columns per row.</summary>
    public static bool CanWriteCsv(JobManifest manifest) => manifest.Outputs.All(o => o.RowShape.All(d => d > 0));

    private static List<(string Header, int Index)> CsvColumns(IReadOnlyList<RowOutput> outputs)
    {
        var columns = new List<(string, int)>();
        foreach (var output in outputs)
        {
            var count = output.RowShape.Aggregate(1L, (a, d) => a * d);
            if (output.RowShape.Length == 0)
            {
                columns.Add((output.Name, columns.Count));
                continue;
            }
            for (var i = 0; i < count; i++)
            {
                columns.Add(($"{output.Name}_{i}", columns.Count));
            }
        }
        return columns;
    }

    private static void Flatten(JsonElement element, string[] values, ref int column)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Flatten(item, values, ref column);
            }
            return;
        }
        if (column < values.Length)
        {
            values[column] = element.ValueKind switch
            {
                JsonValueKind.String => Quote(element.GetString() ?? ""),
                JsonValueKind.Null => "",
                _ => element.GetRawText(),
            };
        }
        column++;
    }

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
}
