using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Rollouts;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.UnitTests.Feedback;

/// <summary>
/// An abort (the API, on any registry replica) racing the leader's controller, against the real SQLite store: both read the running
/// rollout at the same revision, then write in either order. The first write wins with its aliases; the second changes nothing.
/// </summary>
public sealed class RolloutRaceTests : IAsyncLifetime
{
    private const string Model = "race";
    private static readonly Caller Operator = new("ops-key", "admin");
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "mlplatform-unit", Guid.NewGuid().ToString("N"));
    private RegistryDatabase _database = null!;
    private ModelStore _models = null!;
    private AliasStore _aliases = null!;
    private RolloutStore _rollouts = null!;

    public async Task InitializeAsync()
    {
        _database = new RegistryDatabase(Options.Create(new StorageOptions { DataDir = _dataDir }), NullLogger<RegistryDatabase>.Instance);
        await _database.StartAsync(CancellationToken.None);
        var work = new RegistryUnitOfWork(_database, TimeProvider.System);
        _models = new ModelStore(work);
        _aliases = new AliasStore(work);
        _rollouts = new RolloutStore(work);
        var sha = new string('a', 64);
        await _models.AddBlobAsync(sha, 10, new ModelSignature([], []), CancellationToken.None);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(StoreStatus.Ok, (await _models.CreateVersionAsync(Model, sha, null, new Dictionary<string, string>(), null, TimeSpan.Zero, "test", CancellationToken.None)).Status);
        }
        Assert.Equal(StoreStatus.Ok, (await _aliases.SetAliasAsync(Model, "production", 1, null, "first", Operator, CancellationToken.None)).Status);
    }

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task AnAbortBeforeTheControllersStepWinsAndTheStepLeavesTheCanaryRemoved()
    {
        var (running, revision) = await StartAsync();

        var aborted = await AbortAsync(running, revision);
        var stepped = await StepAsync(running, revision);

        Assert.NotNull(aborted);
        Assert.Null(stepped);
        var (stored, _) = (await _rollouts.GetAsync(Model, running.Id, CancellationToken.None))!.Value;
        Assert.Equal(Rollout.StatusAborted, stored.Status);
        Assert.Empty(stored.Analyses);
        Assert.DoesNotContain(await AliasesAsync(), a => a.Name == RolloutService.CanaryAlias);
        Assert.Equal(["set 10 by rollout-controller", "deleted by ops-key"], await CanaryHistoryAsync());
    }

    [Fact]
    public async Task AStepBeforeTheAbortWinsAndTheAbortReadingTheOldRevisionChangesNothing()
    {
        var (running, revision) = await StartAsync();

        var stepped = await StepAsync(running, revision);
        var aborted = await AbortAsync(running, revision);

        Assert.NotNull(stepped);
        Assert.Null(aborted);
        var (stored, storedRevision) = (await _rollouts.GetAsync(Model, running.Id, CancellationToken.None))!.Value;
        Assert.Equal(Rollout.StatusRunning, stored.Status);
        Assert.Equal(1, stored.CurrentStep);
        Assert.Equal(new AliasInfo(RolloutService.CanaryAlias, 2, 50), (await AliasesAsync()).Single(a => a.Name == RolloutService.CanaryAlias));

        // What the abort does next (RolloutService.AbortAsync reads again): it now removes the canary the step set.
        Assert.NotNull(await AbortAsync(stored, storedRevision));
        Assert.DoesNotContain(await AliasesAsync(), a => a.Name == RolloutService.CanaryAlias);
        Assert.Equal(["set 10 by rollout-controller", "set 50 by rollout-controller", "deleted by ops-key"], await CanaryHistoryAsync());
    }

    [Fact]
    public async Task AnAbortBeforeThePromotionWinsAndProductionStaysWhereItWas()
    {
        var (running, revision) = await StartAsync();

        var aborted = await AbortAsync(running, revision);
        var promoted = await PromoteAsync(running, revision);

        Assert.NotNull(aborted);
        Assert.Null(promoted);
        Assert.Equal(Rollout.StatusAborted, (await _rollouts.GetAsync(Model, running.Id, CancellationToken.None))!.Value.Rollout.Status);
        var aliases = await AliasesAsync();
        Assert.Equal(1, aliases.Single(a => a.Name == "production").Version);
        Assert.DoesNotContain(aliases, a => a.Name == RolloutService.CanaryAlias);
    }

    [Fact]
    public async Task APromotionBeforeTheAbortWinsAndTheAbortFindsNothingRunning()
    {
        var (running, revision) = await StartAsync();

        var promoted = await PromoteAsync(running, revision);
        var (afterPromotion, newRevision) = (await _rollouts.GetAsync(Model, running.Id, CancellationToken.None))!.Value;
        var abortedStale = await AbortAsync(running, revision);
        var abortedFresh = await AbortAsync(afterPromotion, newRevision);

        Assert.NotNull(promoted);
        Assert.Null(abortedStale);
        Assert.Null(abortedFresh); // not running any more, whatever revision the abort read
        Assert.Equal(Rollout.StatusSucceeded, (await _rollouts.GetAsync(Model, running.Id, CancellationToken.None))!.Value.Rollout.Status);
        var aliases = await AliasesAsync();
        Assert.Equal(2, aliases.Single(a => a.Name == "production").Version);
        Assert.DoesNotContain(aliases, a => a.Name == RolloutService.CanaryAlias);
    }

    [Fact]
    public async Task AnAbortAndAStepRacingOnTheSameRevisionLeaveOneWinnerAndConsistentAliases()
    {
        for (var round = 0; round < 20; round++)
        {
            var (running, revision) = await StartAsync();

            var results = await Task.WhenAll(
                Task.Run(() => AbortAsync(running, revision)),
                Task.Run(() => round % 2 == 0 ? StepAsync(running, revision) : PromoteAsync(running, revision)));

            Assert.Single(results, r => r is not null);
            var stored = (await _rollouts.GetAsync(Model, running.Id, CancellationToken.None))!.Value.Rollout;
            var aliases = await AliasesAsync();
            var canary = aliases.SingleOrDefault(a => a.Name == RolloutService.CanaryAlias);
            var production = aliases.Single(a => a.Name == "production").Version;
            switch (stored.Status)
            {
                case Rollout.StatusAborted:
                    Assert.Null(canary);
                    Assert.Equal(1, production);
                    break;
                case Rollout.StatusRunning:
                    Assert.Equal(50, canary?.Weight);
                    Assert.Equal(1, production);
                    Assert.NotNull(await AbortAsync(stored, (await _rollouts.GetAsync(Model, running.Id, CancellationToken.None))!.Value.Revision));
                    break;
                default:
                    Assert.Equal(Rollout.StatusSucceeded, stored.Status);
                    Assert.Null(canary);
                    Assert.Equal(2, production);
                    Assert.Equal(StoreStatus.Ok, (await _aliases.SetAliasAsync(Model, "production", 1, null, "next round", Operator, CancellationToken.None)).Status);
                    break;
            }
        }
    }

    private async Task<(Rollout Rollout, long Revision)> StartAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var rollout = new Rollout
        {
            Id = Guid.NewGuid().ToString("N"), Model = Model, Kind = Rollout.KindRollout, Version = 2, BaselineVersion = 1,
            Status = Rollout.StatusRunning, Steps = [10, 50, 100], StepInterval = "1s", MaxErrorRate = 0.01, MaxP99Ms = 250, MinRequests = 1,
            Deadline = "1m", CurrentWeight = 10, CreatedAt = now, StepStartedAt = now, NextAnalysisAt = now, Actor = Operator.Actor,
        };
        Assert.NotNull(await _rollouts.TryInsertAsync(rollout, [AliasEdit.Set(RolloutService.CanaryAlias, 2, 10, "step 1")],
            RolloutService.ControllerCaller, CancellationToken.None));
        return (await _rollouts.GetAsync(Model, rollout.Id, CancellationToken.None))!.Value;
    }

    // The same transitions RolloutService makes.
    private Task<RolloutTransition?> AbortAsync(Rollout read, long revision) => _rollouts.TryTransitionAsync(
        read with { Status = Rollout.StatusAborted, CurrentWeight = null, FinishedAt = DateTimeOffset.UtcNow, Reason = "aborted by ops-key" },
        revision, [AliasEdit.Remove(RolloutService.CanaryAlias, read.Version, "aborted")], Operator, CancellationToken.None);

    private Task<RolloutTransition?> StepAsync(Rollout read, long revision) => _rollouts.TryTransitionAsync(
        read with { CurrentStep = 1, CurrentWeight = 50, Analyses = [Analysis("advance")] },
        revision, [AliasEdit.Set(RolloutService.CanaryAlias, read.Version, 50, "step 2")], RolloutService.ControllerCaller, CancellationToken.None);

    private Task<RolloutTransition?> PromoteAsync(Rollout read, long revision) => _rollouts.TryTransitionAsync(
        read with { Status = Rollout.StatusSucceeded, CurrentWeight = null, FinishedAt = DateTimeOffset.UtcNow, Analyses = [Analysis("promote")] },
        revision,
        [
            AliasEdit.Set("production", read.Version, null, "succeeded"),
            AliasEdit.Remove(RolloutService.CanaryAlias, read.Version, "promoted"),
        ], RolloutService.ControllerCaller, CancellationToken.None);

    private static RolloutAnalysis Analysis(string decision) =>
        new(DateTimeOffset.UtcNow, 1, 10, "1s", 10, 0, 0, 1, 10, 0, decision, "within thresholds");

    private async Task<IReadOnlyList<AliasInfo>> AliasesAsync() =>
        (await _models.GetModelAsync(Model, CancellationToken.None))!.Aliases;

    private async Task<List<string>> CanaryHistoryAsync() =>
        (await _aliases.GetAliasHistoryAsync(Model, RolloutService.CanaryAlias, CancellationToken.None)).Value!
            .Select(c => c.Kind == AliasChange.KindSet ? $"set {c.Weight} by {c.Actor}" : $"{c.Kind} by {c.Actor}").ToList();
}
