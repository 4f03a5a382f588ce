using MlPlatform.Inference.Fleet;

namespace MlPlatform.UnitTests.Feedback;

public sealed class FleetStatsTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("2h", 7_200_000)]
    public void DurationsAreAnIntegerAndAUnit(string text, long milliseconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
        Assert.Equal(text, DurationText.Format(duration));
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("0s")]
    [InlineData("-5s")]
    [InlineData("1.5s")]
    [InlineData("5 m")]
    [InlineData("5d")]
    [InlineData("5M")]
    [InlineData("9999999999s")]
    public void AnythingElseIsNotADuration(string text) => Assert.False(DurationText.TryParse(text, out _));

    [Theory]
    [InlineData(200, InferenceFault.None, "none", "success")]
    [InlineData(400, InferenceFault.Client, "client", "client_error")]
    [InlineData(404, InferenceFault.Client, "client", "client_error")]
    [InlineData(413, InferenceFault.Client, "client", "client_error")]
    [InlineData(429, InferenceFault.Rejected, "rejected", "rejected")]
    [InlineData(503, InferenceFault.Rejected, "rejected", "rejected")]
    [InlineData(500, InferenceFault.Server, "server", "server_error")]
    [InlineData(504, InferenceFault.Server, "server", "server_error")]
    public void AStatusImpliesWhoseFaultItWas(int status, InferenceFault fault, string tag, string outcome)
    {
        Assert.Equal(fault, InferenceFaults.ForStatus(status));
        Assert.Equal(tag, fault.Tag());
        Assert.Equal(outcome, fault.Outcome());
    }

    [Fact]
    public void TheErrorRateIsServerErrorsOverTheRequestsTheVersionHandled()
    {
        var stats = new VersionStats();
        stats.Add(FleetStatsLayout.RequestsField, 200);
        stats.Add(FleetStatsLayout.ClientErrorsField, 80);
        stats.Add(FleetStatsLayout.RejectedField, 20);
        stats.Add(FleetStatsLayout.ErrorsField, 10);

        Assert.Equal(100, stats.Judged);
        Assert.Equal(0.1, stats.ErrorRate, 9);
        Assert.Equal(0, stats.Routed.Requests);
    }

    [Fact]
    public void RoutedFieldsAddUpSeparatelyFromAllTraffic()
    {
        var stats = new VersionStats();
        stats.Add(FleetStatsLayout.RequestsField, 100);
        stats.Add(FleetStatsLayout.ClientErrorsField, 80);
        stats.Add(FleetStatsLayout.RoutedPrefix + FleetStatsLayout.RequestsField, 20);
        stats.Add(FleetStatsLayout.RoutedPrefix + FleetStatsLayout.ErrorsField, 5);
        stats.Add(FleetStatsLayout.RoutedPrefix + FleetStatsLayout.BucketFields[3], 20);
        stats.Add("z:unknown", 7);

        Assert.Equal(100, stats.Requests);
        Assert.Equal(0, stats.Errors);
        Assert.Equal(20, stats.Routed.Requests);
        Assert.Equal(20, stats.Routed.Judged);
        Assert.Equal(0.25, stats.Routed.ErrorRate, 9);
        Assert.Equal(20, stats.Routed.Buckets[3]);
        Assert.Null(stats.PercentileMs(0.99));
    }

    [Theory]
    [InlineData(0.4, 0)]
    [InlineData(1, 0)]
    [InlineData(7, 3)]
    [InlineData(250, 7)]
    [InlineData(251, 8)]
    [InlineData(60_000, 13)]
    public void LatenciesFallIntoTheBucketWhoseUpperBoundTheyDoNotExceed(double ms, int bucket) =>
        Assert.Equal(bucket, FleetStatsLayout.BucketIndex(ms));

    [Fact]
    public void PercentilesInterpolateInsideTheBucketThatHoldsTheRank()
    {
        var stats = new VersionStats();
        var buckets = new long[FleetStatsLayout.BucketCount];
        buckets[FleetStatsLayout.BucketIndex(3)] = 98;   // (2, 5] ms
        buckets[FleetStatsLayout.BucketIndex(400)] = 2;  // (250, 500] ms
        stats.Add(100, 1, buckets);

        Assert.Equal(2 + 3 * 50.0 / 98, stats.PercentileMs(0.5)!.Value, 6);
        Assert.Equal(250 + 250 * 0.5, stats.PercentileMs(0.99)!.Value, 6);
        Assert.Equal(0.01, stats.ErrorRate, 9);
    }

    [Fact]
    public void RequestsSlowerThanTheLastBoundReportThatBound()
    {
        var buckets = new long[FleetStatsLayout.BucketCount];
        buckets[^1] = 5;
        Assert.Equal(FleetStatsLayout.LatencyBucketBoundsMs[^1], VersionStats.Percentile(buckets, 0.99));
    }

    [Fact]
    public void NoRequestsHaveNoPercentileAndNoErrorRate()
    {
        var stats = new VersionStats();
        Assert.Null(stats.PercentileMs(0.99));
        Assert.Equal(0, stats.ErrorRate);
    }

    [Fact]
    public void HashFieldsOfSeveralSecondsAndReplicasAddUp()
    {
        var stats = new VersionStats();
        stats.Add("n", 10);
        stats.Add("e", 2);
        stats.Add("3", 10);
        stats.Add("n", 5);
        stats.Add("3", 5);
        stats.Add("future-field", 99);

        Assert.Equal(15, stats.Requests);
        Assert.Equal(2, stats.Errors);
        Assert.Equal(15, stats.Buckets[3]);
    }

    [Fact]
    public void KeysNameModelVersionAndSecond() =>
        Assert.Equal("mlplatform:stats:iris:3:1700000000", FleetStatsLayout.KeyFor("iris", "3", 1_700_000_000));
}
