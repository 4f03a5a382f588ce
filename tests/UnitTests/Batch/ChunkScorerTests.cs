using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MlPlatform.BatchScorer.Input;
using MlPlatform.BatchScorer.Jobs;
using MlPlatform.BatchScorer.Results;
using MlPlatform.BatchScorer.Scoring;
using MlPlatform.BatchScorer.Storage;
using MlPlatform.Inference.Artifacts;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Registry;
using MlPlatform.Inference.Tensors;
using MlPlatform.UnitTests.Inference;

namespace MlPlatform.UnitTests.Batch;

/// <summary>Scores chunks with the real ONNX Runtime over models/batch/batch-linear.onnx, from a real data folder.</summary>
public sealed class ChunkScorerTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "mlplatform-unit", Guid.NewGuid().ToString("N"));
    private readonly JobFiles _files;
    private readonly ModelSessions _sessions;
    private readonly string _sha256;

    public ChunkScorerTests()
    {
        _files = new JobFiles(Options.Create(new StorageOptions { DataDir = _dataDir }));
        var http = new ServiceCollection().AddHttpClient().BuildServiceProvider().GetRequiredService<IHttpClientFactory>();
        var artifacts = new ArtifactCache(new RegistryClient(http),
            Options.Create(new ArtifactCacheOptions { Directory = Path.Combine(_dataDir, "artifacts") }), NullLogger<ArtifactCache>.Instance);
        var model = File.ReadAllBytes(TestModels.PathOf("batch-linear.onnx"));
        _sha256 = Convert.ToHexStringLower(SHA256.HashData(model));
        // A verified copy already in the cache: the registry is never asked.
        Directory.CreateDirectory(Path.GetDirectoryName(artifacts.PathOf(_sha256))!);
        File.WriteAllBytes(artifacts.PathOf(_sha256), model);
        _sessions = new ModelSessions(artifacts, Options.Create(new OnnxSessionOptions()), Options.Create(new BatchWorkerOptions()), NullLogger<ModelSessions>.Instance);
    }

    private async Task<JobManifest> SubmitAsync(string format, string text, int chunkSize, IReadOnlyList<string>? header = null)
    {
        var id = Guid.NewGuid().ToString("N");
        _files.CreateJobDirectory(id);
        await File.WriteAllTextAsync(_files.InputPath(id), text);
        await using var input = File.OpenRead(_files.InputPath(id));
        var scan = await InputScanner.ScanAsync(input, chunkSize, 1 << 20, 1 << 20, 1 << 20,
            format == InputFormat.Csv ? CsvRowParser.LooksLikeHeader : null, CancellationToken.None);
        var manifest = new JobManifest
        {
            Id = id, Model = "m", Version = 1, Sha256 = _sha256, Format = format,
            CsvHeader = scan.HeaderLine is null ? header : CsvRowParser.SplitHeader(scan.HeaderLine),
            Inputs = [new RowInput("input", "FP32", [8])],
            Outputs = [new RowOutput("probabilities", "FP32", [3])],
            ChunkSize = chunkSize, RowsTotal = scan.RowsTotal, Chunks = scan.Chunks, CreatedAt = DateTimeOffset.UtcNow,
        };
        await _files.WriteManifestAsync(manifest, CancellationToken.None);
        return manifest;
    }

    private ChunkScorer Scorer(int batchSize) =>
        new(_files, _sessions, Options.Create(new BatchWorkerOptions { InferenceBatchSize = batchSize }));

    private static float[] Row(int i) => Enumerable.Range(0, 8).Select(j => (float)Math.Sin(i * 8 + j)).ToArray();

    private static float[] Expected(OnnxModel model, float[] row)
    {
        using var input = TensorBuffer.FromValues<float>("input", TensorDataType.FP32, [1, 8], row);
        var outputs = model.Run([input], ["probabilities"]);
        try
        {
            return outputs[0].AsSpan<float>().ToArray();
        }
        finally
        {
            outputs[0].Dispose();
        }
    }

    [Fact]
    public async Task ScoredChunkHasOneLinePerRowInInputOrderWithBadRowsInPlace()
    {
        var lines = Enumerable.Range(0, 10).Select(i => i switch
        {
            3 => "{\"input\":[1,2]}",
            7 => "not json",
            _ => JsonSerializer.Serialize(new { input = Row(i) }),
        });
        var manifest = await SubmitAsync(InputFormat.Jsonl, string.Join("\n", lines), chunkSize: 10);

        // Batches of 4 rows: the bad rows fall inside batches and must not shift their neighbours' outputs.
        var outcome = await Scorer(batchSize: 4).ScoreAsync(manifest, manifest.Chunks[0], CancellationToken.None);

        Assert.Equal(new ChunkOutcome(10, 2, 3, "Input 'input': expected 8 values at nesting level 1, found 2 (row shape [8]).", true), outcome);
        var results = File.ReadAllLines(_files.ChunkResultPath(manifest.Id, 0));
        Assert.Equal(10, results.Length);
        using var model = TestModels.Load("batch-linear.onnx");
        for (var i = 0; i < 10; i++)
        {
            using var line = JsonDocument.Parse(results[i]);
            Assert.Equal(i, line.RootElement.GetProperty("row").GetInt32());
            if (i is 3 or 7)
            {
                Assert.False(string.IsNullOrEmpty(line.RootElement.GetProperty("error").GetString()));
                continue;
            }
            var actual = line.RootElement.GetProperty("outputs").GetProperty("probabilities").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            var expected = Expected(model, Row(i));
            Assert.Equal(expected.Length, actual.Length);
            for (var k = 0; k < expected.Length; k++)
            {
                Assert.True(Math.Abs(actual[k] - expected[k]) <= 1e-5 * Math.Abs(expected[k]), $"row {i} output {k}: {actual[k]} vs {expected[k]}");
            }
        }
    }

    [Fact]
    public async Task AChunkScoredTwiceIsPublishedOnce()
    {
        var text = string.Join("\n", Enumerable.Range(0, 5).Select(i => string.Join(",", Row(i).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
        var manifest = await SubmitAsync(InputFormat.Csv, text, chunkSize: 5);
        var scorer = Scorer(batchSize: 1024);

        var first = await scorer.ScoreAsync(manifest, manifest.Chunks[0], CancellationToken.None);
        var published = await File.ReadAllBytesAsync(_files.ChunkResultPath(manifest.Id, 0));
        var second = await scorer.ScoreAsync(manifest, manifest.Chunks[0], CancellationToken.None);

        Assert.True(first.Published);
        Assert.False(second.Published);
        Assert.Equal(published, await File.ReadAllBytesAsync(_files.ChunkResultPath(manifest.Id, 0)));
        Assert.Single(Directory.GetFiles(_files.ResultsDirectory(manifest.Id)));
    }

    [Fact]
    public async Task ResultsStreamPublishedChunksInInputOrderAndSkipUnfinishedOnes()
    {
        var text = string.Join("\n", Enumerable.Range(0, 6).Select(i => i == 4 ? "1,2" : string.Join(",", Row(i))));
        var manifest = await SubmitAsync(InputFormat.Csv, "c0,c1,c2,c3,c4,c5,c6,c7\n" + text, chunkSize: 2);
        var scorer = Scorer(batchSize: 1024);
        await scorer.ScoreAsync(manifest, manifest.Chunks[2], CancellationToken.None);
        await scorer.ScoreAsync(manifest, manifest.Chunks[0], CancellationToken.None);
        var reader = new ResultReader(_files);

        using var jsonl = new MemoryStream();
        await reader.WriteJsonlAsync(manifest, jsonl, CancellationToken.None);
        using var csv = new MemoryStream();
        await reader.WriteCsvAsync(manifest, csv, CancellationToken.None);

        var rows = Encoding.UTF8.GetString(jsonl.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("row").GetInt32());
        Assert.Equal([0, 1, 4, 5], rows);
        var csvLines = Encoding.UTF8.GetString(csv.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("row,probabilities_0,probabilities_1,probabilities_2,error", csvLines[0]);
        Assert.Equal(5, csvLines.Length);
        Assert.Equal("4,,,,\"Expected 8 columns, found 2.\"", csvLines[3]);
        Assert.StartsWith("5,", csvLines[4]);
        Assert.EndsWith(",", csvLines[4]);
    }

    public void Dispose()
    {
        _sessions.Dispose();
        Directory.Delete(_dataDir, recursive: true);
    }
}
