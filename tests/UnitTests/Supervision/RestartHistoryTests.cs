using MlPlatform.AppHost.Supervision;

namespace MlPlatform.UnitTests.Supervision;

public sealed class RestartHistoryTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheBackoffStartsAtOneSecondAndDoublesUpToThirtySeconds()
    {
        var history = new RestartHistory(new SupervisorOptions { MaxRestarts = 100 });

        var delays = Enumerable.Range(0, 7).Select(i => history.OnExit(Start.AddSeconds(i)).Delay.TotalSeconds).ToArray();

        Assert.Equal([1, 2, 4, 8, 16, 30, 30], delays);
    }

    [Fact]
    public void TwoHealthyMinutesResetTheBackoffButLessDoesNot()
    {
        var history = new RestartHistory(new SupervisorOptions { MaxRestarts = 100 });
        history.OnExit(Start);
        history.OnExit(Start.AddSeconds(5));

        history.Healthy(Start.AddSeconds(10));
        Assert.Equal(TimeSpan.FromSeconds(4), history.OnExit(Start.AddSeconds(10) + TimeSpan.FromSeconds(119)).Delay);

        history.Healthy(Start.AddMinutes(5));
        Assert.Equal(TimeSpan.FromSeconds(1), history.OnExit(Start.AddMinutes(7)).Delay);
    }

    [Fact]
    public void AfterFiveRestartsInTenMinutesTheNextExitGivesUp()
    {
        var history = new RestartHistory(new SupervisorOptions());
        for (var i = 0; i < 5; i++)
        {
            var decision = history.OnExit(Start.AddMinutes(i));
            Assert.False(decision.GiveUp);
            Assert.Equal(i + 1, decision.RestartsInWindow);
        }

        var sixth = history.OnExit(Start.AddMinutes(9));

        Assert.True(sixth.GiveUp);
        Assert.Equal(5, sixth.RestartsInWindow);
    }

    [Fact]
    public void RestartsOlderThanTheWindowNoLongerCount()
    {
        var history = new RestartHistory(new SupervisorOptions());
        for (var i = 0; i < 5; i++)
        {
            history.OnExit(Start.AddMinutes(i));
        }

        // Ten minutes after the first two restarts, only three remain in the window.
        var later = history.OnExit(Start.AddMinutes(11).AddSeconds(1));

        Assert.False(later.GiveUp);
        Assert.Equal(4, later.RestartsInWindow);
    }

    [Fact]
    public void AnOperatorsActionStartsTheHistoryAfresh()
    {
        var history = new RestartHistory(new SupervisorOptions());
        for (var i = 0; i < 5; i++)
        {
            history.OnExit(Start.AddSeconds(i));
        }

        history.Reset();
        var next = history.OnExit(Start.AddSeconds(10));

        Assert.False(next.GiveUp);
        Assert.Equal(1, next.RestartsInWindow);
        Assert.Equal(TimeSpan.FromSeconds(1), next.Delay);
    }
}
