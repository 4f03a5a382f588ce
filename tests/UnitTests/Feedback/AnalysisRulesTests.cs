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
        var (verdict, reason) = AnalysisRules.Judge(new WindowFigures(100, 5, 10), new WindowFigures(400, 40, 9), Thresholds);

        Assert.Equal(Verdict.Healthy, verdict);
        Assert.Equal("error rate 0.05 over 0.01, but within 0 of the baseline's 0.1 on 400 requests", reason);
    }

    private static readonly AnalysisThresholds WithMargins = Thresholds with { ErrorRateMargin = 0.05, P99Factor = 1.5 };

    [Theory]
    [InlineData(12, 20, Verdict.Healthy)]  // 0.12 over 0.01, but under the baseline's 0.1 + 0.05
    [InlineData(17, 20, Verdict.Breach)]   // 0.17 >= 0.15
    [InlineData(6, 0, Verdict.Breach)]     // 0.06 >= 0 + 0.05
    [InlineData(4, 0, Verdict.Healthy)]    // 0.04 over 0.01, but under 0 + 0.05
    [InlineData(1, 0, Verdict.Healthy)]    // 0.01 is not over the absolute threshold
    public void AnErrorRateBreachNeedsTheThresholdAndTheMarginOverTheBaseline(int candidateErrors, int baselineErrors, Verdict expected)
    {
        var (verdict, _) = AnalysisRules.Judge(new WindowFigures(100, candidateErrors, 10), new WindowFigures(200, baselineErrors, 9), WithMargins);

        Assert.Equal(expected, verdict);
    }

    [Fact]
    public void ASlowdownThatHitsProductionAsMuchIsNoBreach()
    {
        var (verdict, reason) = AnalysisRules.Judge(new WindowFigures(100, 0, 900), new WindowFigures(300, 0, 800), WithMargins);

        Assert.Equal(Verdict.Healthy, verdict);
        Assert.Equal("p99 900 ms over 250 ms, but under 1.5 × the baseline's 800 ms", reason);
    }

    [Fact]
    public void ACandidateSlowerThanTheBaselineByTheFactorIsABreach()
    {
        var (verdict, reason) = AnalysisRules.Judge(new WindowFigures(100, 0, 1300), new WindowFigures(300, 0, 800), WithMargins);

        Assert.Equal(Verdict.Breach, verdict);
        Assert.Equal("p99 1300 ms over 100 requests exceeds 250 ms; production 800 ms", reason);
    }

    [Fact]
    public void WithoutABaselineTheAbsoluteThresholdsDecide()
    {
        Assert.Equal(Verdict.Breach, AnalysisRules.Judge(new WindowFigures(100, 0, 900), null, WithMargins).Verdict);
        Assert.Equal(Verdict.Breach, AnalysisRules.Judge(new WindowFigures(100, 0, 900), new WindowFigures(10, 0, 900), WithMargins).Verdict);
        Assert.Equal(Verdict.Breach, AnalysisRules.Judge(new WindowFigures(100, 20, 10), null, WithMargins).Verdict);
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
