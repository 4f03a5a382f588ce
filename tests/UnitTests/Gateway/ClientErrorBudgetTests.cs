using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Limits;

namespace MlPlatform.UnitTests.Gateway;

public sealed class ClientErrorBudgetTests
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private readonly Clock _clock = new();

    private ClientErrorBudget Budget(int maxErrors = 3, int windowSeconds = 10, int coolDownSeconds = 30, int maxHeld = 2, long maxDrained = 1000) =>
        new(Options.Create(new ClientErrorOptions
        {
            MaxErrors = maxErrors, Window = TimeSpan.FromSeconds(windowSeconds), CoolDown = TimeSpan.FromSeconds(coolDownSeconds), MaxHeldRefusals = maxHeld,
            MaxDrainedBytes = maxDrained,
        }), _clock);

    [Fact]
    public void AKeyHasItsRefusedBodiesDrainedUpToItsBoundPerWindowAndNoMore()
    {
        var budget = Budget(maxDrained: 1000);

        Assert.True(budget.MayDrain("oversized", 600));
        Assert.True(budget.AddDrained("oversized", 600));
        // A declared body that does not fit what is left is not started; one that fits is.
        Assert.False(budget.MayDrain("oversized", 600));
        Assert.True(budget.MayDrain("oversized", 400));
        Assert.True(budget.AddDrained("oversized", 400));
        Assert.False(budget.MayDrain("oversized", 1));
        // Bodies read at the same time: the read that passes the bound says so (the drain stops there).
        Assert.False(budget.AddDrained("oversized", 1));
        Assert.True(budget.MayDrain("other", 1000));

        _clock.Now += TimeSpan.FromSeconds(10);
        Assert.True(budget.MayDrain("oversized", 1000));
    }

    [Fact]
    public void TheFirstBodyLeftUndrainedInAWindowIsTheOneLogged()
    {
        var budget = Budget(maxDrained: 0);

        Assert.False(budget.MayDrain("oversized", 1));
        Assert.True(budget.LeftUndrained("oversized"));
        Assert.False(budget.LeftUndrained("oversized"));
        Assert.True(budget.LeftUndrained("other"));

        _clock.Now += TimeSpan.FromSeconds(10);
        Assert.True(budget.LeftUndrained("oversized"));
    }

    [Fact]
    public void DrainedBytesDoNotStartACoolDown()
    {
        var budget = Budget(maxDrained: 10);

        Assert.False(budget.AddDrained("oversized", 100));
        Assert.Null(budget.CoolingDown("oversized"));
    }

    [Fact]
    public void AKeyHoldsAtMostItsShareOfRefusalsAtOnce()
    {
        var budget = Budget(maxHeld: 2);

        Assert.True(budget.TryHold("hostile"));
        Assert.True(budget.TryHold("hostile"));
        Assert.False(budget.TryHold("hostile"));
        Assert.True(budget.TryHold("other"));
        budget.Release("hostile");
        Assert.True(budget.TryHold("hostile"));
        Assert.False(budget.TryHold("hostile"));
    }

    [Fact]
    public void TheErrorThatReachesTheBudgetStartsACoolDownOfThatKeyOnly()
    {
        var budget = Budget();

        Assert.False(budget.CountError("hostile"));
        Assert.False(budget.CountError("hostile"));
        Assert.Null(budget.CoolingDown("hostile"));
        Assert.False(budget.CountError("other"));
        Assert.True(budget.CountError("hostile"));

        Assert.Equal(TimeSpan.FromSeconds(30), budget.CoolingDown("hostile"));
        Assert.Null(budget.CoolingDown("other"));
        Assert.Null(budget.CoolingDown("never-seen"));
    }

    [Fact]
    public void TheCoolDownEndsAfterItsDurationAndCountingStartsAgain()
    {
        var budget = Budget();
        for (var i = 0; i < 3; i++)
        {
            budget.CountError("hostile");
        }

        _clock.Now += TimeSpan.FromSeconds(29);
        Assert.Equal(TimeSpan.FromSeconds(1), budget.CoolingDown("hostile"));
        _clock.Now += TimeSpan.FromSeconds(1);
        Assert.Null(budget.CoolingDown("hostile"));
        Assert.False(budget.CountError("hostile"));
    }

    [Fact]
    public void ErrorsSpreadOverMoreThanOneWindowNeverAddUp()
    {
        var budget = Budget();
        for (var i = 0; i < 10; i++)
        {
            Assert.False(budget.CountError("slow"));
            Assert.False(budget.CountError("slow"));
            _clock.Now += TimeSpan.FromSeconds(10);
        }

        Assert.Null(budget.CoolingDown("slow"));
    }

    [Theory]
    [InlineData(400, true)]
    [InlineData(404, true)]
    [InlineData(409, true)]
    [InlineData(413, true)]
    [InlineData(415, true)]
    [InlineData(422, true)]
    [InlineData(401, false)]
    [InlineData(403, false)]
    [InlineData(408, false)]
    [InlineData(429, false)]
    [InlineData(200, false)]
    [InlineData(503, false)]
    public void OnlyClientErrorsWithoutAnAnswerOfTheirOwnCount(int status, bool counts) => Assert.Equal(counts, ClientErrorBudget.Counts(status));

    [Theory]
    [InlineData("MaxErrors", "0")]
    [InlineData("Window", "00:00:00")]
    [InlineData("CoolDown", "2.00:00:00")]
    [InlineData("RefusalDelay", "00:02:00")]
    [InlineData("MaxHeldRefusals", "-1")]
    [InlineData("MaxDrainedBytes", "-1")]
    public void ABudgetSettingOutOfItsRangeStopsTheGateway(string setting, string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Configured((setting, value)));

        Assert.Contains(setting, error.Message);
    }

    [Fact]
    public void TheBudgetIsReadFromItsSectionWithItsDefaults()
    {
        var defaults = Configured();
        Assert.Equal((200, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)), (defaults.MaxErrors, defaults.Window, defaults.CoolDown));
        Assert.Equal((TimeSpan.FromSeconds(1), 64), (defaults.RefusalDelay, defaults.MaxHeldRefusals));
        // On unless configured off: every key below admin is treated as hostile.
        Assert.True(defaults.Enabled);
        Assert.Equal(256L << 20, defaults.MaxDrainedBytes);

        var configured = Configured(("MaxErrors", "5"), ("Window", "00:01:00"), ("CoolDown", "00:00:02"), ("Enabled", "false"), ("MaxDrainedBytes", "1024"));
        Assert.Equal((5, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(2)), (configured.MaxErrors, configured.Window, configured.CoolDown));
        Assert.Equal((false, 1024L), (configured.Enabled, configured.MaxDrainedBytes));
    }

    private static ClientErrorOptions Configured(params (string Setting, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder();
        foreach (var (setting, value) in settings)
        {
            builder.Configuration[$"{ClientErrorOptions.SectionName}:{setting}"] = value;
        }
        builder.AddGatewayLimits();
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<ClientErrorOptions>>().Value;
    }
}
