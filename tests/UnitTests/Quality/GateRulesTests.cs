using System.Text.Json;
using MlPlatform.ModelRegistry.Apis;
using MlPlatform.ModelRegistry.Rollouts;
using Xunit;

namespace MlPlatform.UnitTests.Quality;

public sealed class GateRulesTests
{
    private static QualityFigures Labelled(int labelled, double? accuracy) => new(labelled, labelled, 1, accuracy, null, null);

    [Fact]
    public void AMemberThatNamesNoGateIsRefusedNamingIt()
    {
        static QualityGates? Gates(string json) =>
            JsonSerializer.Deserialize<StartRolloutRequest>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web))!.Gates;

        Assert.Equal("'gates.foo' is not a gate: the gates are 'accuracyDropMax', 'driftPsiMax' and 'shadowAgreementMin'.",
            RolloutsApi.CheckGates(Gates("""{"version":2,"gates":{"foo":1}}""")));
        Assert.StartsWith("'gates.accuracyDropMaxx' is not a gate", RolloutsApi.CheckGates(Gates("""{"version":2,"gates":{"accuracyDropMax":0.02,"accuracyDropMaxx":0.5}}""")));
        var valid = Gates("""{"version":2,"gates":{"accuracyDropMax":0.02,"ShadowAgreementMin":0.9}}""");
        Assert.Null(RolloutsApi.CheckGates(valid));
        Assert.Null(valid!.Unknown);
        Assert.DoesNotContain("unknown", JsonSerializer.Serialize(valid, new JsonSerializerOptions(JsonSerializerDefaults.Web)), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AnAccuracyDropOverTheGateFailsWithBothSidesFigures()
    {
        var result = GateRules.Accuracy(0.02, Labelled(60, 1.0 / 3), 1, Labelled(58, 1), 50);
        Assert.Equal(GateResult.Fail, result.Result);
        Assert.Equal(0.666667, result.Value);
        Assert.Equal(58, result.Count);
        Assert.Equal("accuracy drop 0.667 (version 1's accuracy 1 on 58 labelled rows, this version's 0.333 on 60) exceeds 0.02", result.Detail);
        Assert.StartsWith("quality gate accuracyDropMax failed: accuracy drop 0.667", GateRules.Reason(result));
    }

    [Fact]
    public void AnAccuracyDropWithinTheGatePassesAndTooFewLabelsOnEitherSideAreInconclusive()
    {
        Assert.Equal(GateResult.Pass, GateRules.Accuracy(0.02, Labelled(60, 0.95), 1, Labelled(60, 0.96), 50).Result);
        var few = GateRules.Accuracy(0.02, Labelled(60, 0.1), 1, Labelled(49, 1), 50);
        Assert.Equal(GateResult.Inconclusive, few.Result);
        Assert.Null(few.Value);
        Assert.Contains("fewer than the 50 needed", few.Detail);
        Assert.Null(GateRules.FirstFailure([few]));
    }

    [Fact]
    public void DriftFailsAbovePsiAndShadowBelowAgreementWithEnoughRequests()
    {
        Assert.Equal(GateResult.Fail, GateRules.Drift(0.25, 0.4, 100, 50).Result);
        Assert.Equal(GateResult.Pass, GateRules.Drift(0.25, 0.05, 100, 50).Result);
        Assert.Equal(GateResult.Inconclusive, GateRules.Drift(0.25, 4, 49, 50).Result);
        Assert.Equal(GateResult.Inconclusive, GateRules.Drift(0.25, null, 100, 50).Result);
        Assert.Equal(GateResult.Fail, GateRules.Shadow(0.95, 0.33, 80, 50).Result);
        Assert.Equal(GateResult.Pass, GateRules.Shadow(0.95, 1, 80, 50).Result);
        Assert.Equal(GateResult.Inconclusive, GateRules.Shadow(0.95, null, 80, 50).Result);
        Assert.Equal(GateResult.Inconclusive, GateRules.Shadow(0.95, 0.1, 10, 50).Result);
    }
}
