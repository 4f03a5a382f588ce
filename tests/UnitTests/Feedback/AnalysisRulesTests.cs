using System.ComponentModel.DataAnnotations;
using MlPlatform.ModelRegistry.Alerts;
using MlPlatform.ModelRegistry.Rollouts;

namespace MlPlatform.UnitTests.Feedback;

public sealed class AnalysisRulesTests
{
    private static readonly AnalysisThresholds Thresholds = new(MaxErrorRate: 0.01, MaxP99Ms: 250, MinRequests: 50);

    [Fact]
    public void TooFewRequestsJudgeNothingEvenWhenAllFail()
    {
        var (verdict, reason) = AnalysisRules.Judge(new WindowFigures(49, 49, 9000), null, Thresholds);

        Assert.Equal(Verdict.Inconclusive, verdict);
        Assert.Equal("49 requests, fewer than the 50 needed to judge", reason);
    }

    [Fact]
    public void AnErrorRateOverTheThresholdIsABreachWithTheFigures()
    {
        var (verdict, reason) = AnalysisRules.Judge(new WindowFigures(100, 2, 10), new WindowFigures(400, 0, 9), Thresholds);

        Assert.Equal(Verdict.Breach, verdict);
        Assert.Equal("error rate 0.02 (2 of 100 requests) exceeds 0.01; production 0 on 400 requests", reason);
    }

    [Fact]
    public void ErrorsProductionShowsAsOftenAreNotTheCanarysFault()
    {
        var (verdict, _) = AnalysisRules.Judge(new WindowFigures(100, 5, 10), new WindowFigures(400, 40, 9), Thresholds);

        Assert.Equal(Verdict.Inconclusive, verdict);
    }

    [Fact]
    public void ProductionWithTooFewRequestsDoesNotExcuseTheCanary()
    {
        var (verdict, _) = AnalysisRules.Judge(new WindowFigures(100, 5, 10), new WindowFigures(10, 10, 9), Thresholds);

        Assert.Equal(Verdict.Breach, verdict);
    }

    [Fact]
    public void ASlowP99IsABreach()
    {
        var (verdict, reason) = AnalysisRules.Judge(new WindowFigures(100, 0, 400), null, Thresholds);

        Assert.Equal(Verdict.Breach, verdict);
        Assert.Equal("p99 400 ms over 100 requests exceeds 250 ms", reason);
    }

    [Fact]
    public void WithinThresholdsOnEnoughRequestsIsHealthy()
    {
        var (verdict, _) = AnalysisRules.Judge(new WindowFigures(100, 1, 200), null, Thresholds);

        Assert.Equal(Verdict.Healthy, verdict);
    }

    [Theory]
    [InlineData(false, 0.6, AlertTransition.Fire)]
    [InlineData(false, 0.5, AlertTransition.None)]
    [InlineData(true, 0.6, AlertTransition.None)]
    [InlineData(true, 0.3, AlertTransition.None)]
    [InlineData(true, 0.2, AlertTransition.Resolve)]
    [InlineData(true, null, AlertTransition.None)]
    [InlineData(false, null, AlertTransition.None)]
    public void AlertsFireAboveTheThresholdAndResolveOnlyBelowTheBand(bool firing, double? value, AlertTransition expected) =>
        Assert.Equal(expected, AlertHysteresis.Next(firing, value, threshold: 0.5, resolveThreshold: 0.2));

    [Fact]
    public void AnAlertRuleOfAnUnknownKindOrAnInvertedBandFailsValidation()
    {
        var options = new AlertOptions
        {
            Rules =
            [
                new AlertRule { Name = "a", Kind = "cpu", Threshold = 1 },
                new AlertRule { Name = "b", Kind = AlertRule.ErrorRate, Threshold = 0.1, ResolveThreshold = 0.2 },
            ],
            Webhooks = [new WebhookOptions { Url = "ftp://example" }],
        };

        var errors = options.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage).ToList();

        Assert.Contains(errors, e => e!.StartsWith("Alerts:Rules:0:Kind 'cpu' is not one of error-rate, p99", StringComparison.Ordinal));
        Assert.Contains("Alerts:Rules:1:ResolveThreshold must not exceed Threshold (it is the lower edge of the hysteresis band).", errors);
        Assert.Contains("Alerts:Webhooks:0:Url must be an absolute http(s) URL.", errors);
    }
}
