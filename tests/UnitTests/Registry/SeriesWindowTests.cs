using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Fleet;

namespace MlPlatform.UnitTests.Registry;

public sealed class SeriesWindowTests
{
    // Check() reads only the options; the connection is never touched.
    private static readonly FleetStatsSeriesReader Reader = new(null!, Options.Create(new FleetStatsOptions()), TimeProvider.System);

    [Theory]
    [InlineData("15m", "15s")]
    [InlineData("1h", "1m")]
    [InlineData("6h", "5m")]
    [InlineData("6h", "1m")]
    [InlineData("30m", "2s")]
    [InlineData("7h", "1m")]
    public void TheConsolesWindowsAndStepsAreAccepted(string window, string step)
    {
        Assert.Null(Reader.Check(Parse(window), Parse(step)));
    }

    [Theory]
    [InlineData("8h", "1m", "'window' is at most 7h (per-minute statistics are kept that long).")]
    [InlineData("1h", "15s", "With a step shorter than a minute (or not whole minutes), 'window' is at most 30m (per-second statistics are kept that long); take a step of 1m or more.")]
    [InlineData("1h", "7m", "'window' (1h) must be a whole number of steps (7m).")]
    [InlineData("1m", "5m", "'window' (1m) must be a whole number of steps (5m).")]
    [InlineData("30m", "500ms", "'step' is a whole number of seconds, at least 1s, such as 15s, 1m or 5m.")]
    [InlineData("2h", "1s", "A series has at most 1440 points; 2h at 1s is 7200. Take a longer step.")]
    public void AWindowOrStepThatCannotBeReadIsExplained(string window, string step, string expected)
    {
        Assert.Equal(expected, Reader.Check(Parse(window), Parse(step)));
    }

    [Fact]
    public void EveryCounterOfTheLayoutHasADistinctNameAndField()
    {
        Assert.Equal(["requests", "errors", "clientErrors", "rejected"], FleetStatsLayout.Counters.Select(c => c.Name));
        Assert.Equal(FleetStatsLayout.Counters.Count, FleetStatsLayout.Counters.Select(c => c.Field).Distinct().Count());
        Assert.Equal("mlplatform:stats-1m:iris:2:29000000", FleetStatsLayout.MinuteKeyFor("iris", "2", 29_000_000));
    }

    private static TimeSpan Parse(string text) => DurationText.TryParse(text, out var span) ? span : throw new ArgumentException(text);
}
