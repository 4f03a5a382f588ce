using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Quality;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Quality;
using MlPlatform.ModelRegistry.Rollouts;
using MlPlatform.ModelRegistry.Storage;
using Xunit;

namespace MlPlatform.UnitTests.Quality;

/// <summary>
/// A rollout's quality gates judge only what the canary served, against the real SQLite stores, payload files and label store: the
/// candidate version also holds shadow copies (production's request ids, so production's labels) and pinned requests, both wrong.
/// </summary>
public sealed class QualityGateRoutesTests : IAsyncLifetime
{
    private const string Model = "gated";
    private const int Rows = 20;
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "mlplatform-unit", Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly DateTimeOffset _at = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(1);
    private RegistryDatabase _database = null!;
    private QualityGateJudge _judge = null!;

    public async Task InitializeAsync()
    {
        var storage = Options.Create(new StorageOptions { DataDir = _dataDir });
        var options = Options.Create(new QualityOptions { GateMinLabelled = 10, GateMinRequests = 10 });
        _database = new RegistryDatabase(storage, NullLogger<RegistryDatabase>.Instance);
        await _database.StartAsync(CancellationToken.None);
        var work = new RegistryUnitOfWork(_database, TimeProvider.System);
        var models = new ModelStore(work);
        var aliases = new AliasStore(work);
        var serving = new ServingStore(work);
        await models.AddBlobAsync(new string('a', 64), 10, new ModelSignature([], []), CancellationToken.None);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(StoreStatus.Ok, (await models.CreateVersionAsync(Model, new string('a', 64), null, new Dictionary<string, string>(), null, TimeSpan.Zero, "test",
                CancellationToken.None)).Status);
        }
        Assert.Equal(StoreStatus.Ok, (await aliases.SetAliasAsync(Model, "production", 1, null, "first", new Caller("ops-key", "admin"), CancellationToken.None)).Status);
        Assert.Equal(StoreStatus.Ok, (await serving.PutServingAsync(Model, ServingSettings.Default with
            { Quality = new QualitySettings(QualitySettings.Classification, "Score.output", null) }, CancellationToken.None)).Status);
        var feedback = new FeedbackStore(storage, TimeProvider.System);
        await feedback.StartAsync(CancellationToken.None);
        var files = new PayloadFiles(storage, options, TimeProvider.System);
        var references = new ReferenceStore(storage);
        var quality = new QualityService(models, serving, aliases, files, feedback, references,
            new QualityMetrics(_services.GetRequiredService<IMeterFactory>()), options, TimeProvider.System);
        _judge = new QualityGateJudge(quality, serving, options);

        // Production (version 1) and the canary (version 2) answer class 0, the truth; version 2's shadow copies of production's
        // requests and the requests pinned to it answer class 2, and their inputs are shifted far from the reference.
        await AppendAsync(files, 1, Enumerable.Range(0, Rows).Select(i => Record($"p{i}", 1, PayloadRoutes.Production, i, 0)));
        await AppendAsync(files, 2, Enumerable.Range(0, Rows).Select(i => Record($"c{i}", 2, PayloadRoutes.Canary, i, 0))
            .Concat(Enumerable.Range(0, Rows).Select(i => Record($"p{i}", 2, PayloadRoutes.Shadow, i + 100, 2)))
            .Concat(Enumerable.Range(0, Rows).Select(i => Record($"n{i}", 2, PayloadRoutes.Pinned, i + 100, 2))));
        var labels = new[] { "p", "c", "n" }.SelectMany(prefix => Enumerable.Range(0, Rows)
            .Select(i => new FeedbackItem($"{prefix}{i}", JsonDocument.Parse("0").RootElement.Clone(), null))).ToList();
        await feedback.PutAsync(Model, labels, CancellationToken.None);
        var reference = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        for (var i = 0; i < Rows; i++)
        {
            InputProfiles.AddRow(reference, "input", 2, [i, i]);
        }
        await references.PutAsync(Model, 2, new InputProfile(InputProfile.BatchJob, "job", Rows, 0, _at,
            reference.Select(f => InputProfiles.Profile(f.Key, f.Value)).ToList()), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task AccuracyAndDriftGatesJudgeOnlyTheCanarysServedRequests()
    {
        var now = DateTimeOffset.UtcNow;
        var results = await _judge.JudgeAsync(Model, 2, PayloadRoutes.Canary, new QualityGates(AccuracyDropMax: 0.02, DriftPsiMax: 0.25),
            now - TimeSpan.FromMinutes(5), now, 1, (now - TimeSpan.FromMinutes(5), now), CancellationToken.None);

        Assert.NotNull(results);
        var accuracy = results.Single(r => r.Gate == QualityGates.AccuracyDrop);
        Assert.True(accuracy.Result == GateResult.Pass, accuracy.Detail);
        Assert.Equal(0, accuracy.Value);
        Assert.Contains($"this version's 1 on {Rows})", accuracy.Detail);
        var drift = results.Single(r => r.Gate == QualityGates.DriftPsi);
        Assert.True(drift.Result == GateResult.Pass, drift.Detail);
        Assert.Equal(Rows, drift.Count);
    }

    private static PayloadRecord Record(string id, int version, string route, double feature, int predicted)
    {
        var scores = new double[3];
        scores[predicted] = 0.9;
        return new PayloadRecord(id, Model, version, route, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(1), 1, PayloadOutcomes.Success, 200, null,
            [new PayloadTensor("input", "FP32", [1, 2], JsonSerializer.SerializeToElement(new[] { feature, feature }))],
            [new PayloadTensor("Score.output", "FP32", [1, 3], JsonSerializer.SerializeToElement(scores))], false);
    }

    private async Task AppendAsync(PayloadFiles files, int version, IEnumerable<PayloadRecord> records) =>
        await files.AppendAsync(Model, version, _at, records.Select(r => (ReadOnlyMemory<byte>)JsonSerializer.SerializeToUtf8Bytes(r, PayloadJson.Options)
            .Concat("\n"u8.ToArray()).ToArray()).ToList(), CancellationToken.None);
}
