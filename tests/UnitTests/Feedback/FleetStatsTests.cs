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
    [InlineData(200, false)]
    [InlineData(400, true)]
    [InlineData(404, true)]
    [InlineData(413, true)]
    [InlineData(401, false)]
    [InlineData(403, false)]
    [InlineData(429, false)]
    [InlineData(499, false)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    public void ErrorsAre5xxAnd4xxOtherThanAuthAndRateLimits(int status, bool error) => Assert.Equal(error, FleetStatsLayout.IsError(status));

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
