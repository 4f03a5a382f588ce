using Microsoft.Extensions.Options;
using MlPlatform.Inference.Protocol;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.UnitTests.Online;

/// <summary>The scorer's in-flight byte budget and on-demand load gate (issue 16).</summary>
public sealed class ScorerBoundsTests
{
    private static IOptions<InferenceLimitsOptions> Limits(long budget = 1000, int loads = 2, int perKey = 1) =>
        Options.Create(new InferenceLimitsOptions { MaxInFlightBytes = budget, MaxConcurrentLoads = loads, MaxConcurrentLoadsPerKey = perKey });

    [Fact]
    public void TheBudgetRefusesWhatDoesNotFitAsOverloadAndWhatNeverFitsAsTooLarge()
    {
        var budget = new InFlightBudget(Limits());
        budget.Reserve(600);
        var busy = Assert.Throws<ScorerOverloadedException>(() => budget.Reserve(500));
        Assert.Contains("in-flight memory budget (1000 bytes)", busy.Message, StringComparison.Ordinal);
        Assert.Equal(600, budget.Used);

        var tooLarge = Assert.Throws<InferenceProtocolException>(() => budget.Reserve(1001));
        Assert.Equal(413, tooLarge.StatusCode);

        budget.Release(600);
        budget.Reserve(1000);
        Assert.Equal(1000, budget.Used);
    }

    [Fact]
    public void LoadsOfDifferentVersionsAreBoundedAndJoiningALoadTakesNoSlot()
    {
        var gate = new OnDemandLoadGate(Limits(loads: 2, perKey: 5));
        using var first = gate.Enter("m", 1, "a");
        using var joined = gate.Enter("m", 1, "b");
        var second = gate.Enter("m", 2, "a");
        Assert.Throws<ScorerOverloadedException>(() => gate.Enter("m", 3, "c"));
        second.Dispose();
        using var third = gate.Enter("m", 3, "c");
    }

    [Fact]
    public void OneKeyLoadsOnlyItsShareAtOnce()
    {
        var gate = new OnDemandLoadGate(Limits(loads: 8, perKey: 1));
        var mine = gate.Enter("m", 1, "key");
        var refused = Assert.Throws<InferenceProtocolException>(() => gate.Enter("m", 2, "key"));
        Assert.Equal(429, refused.StatusCode);
        using (gate.Enter("m", 2, "other"))
        {
        }
        mine.Dispose();
        using var next = gate.Enter("m", 2, "key");
    }
}
