using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Health;
using Yarp.ReverseProxy.Configuration;

namespace MlPlatform.UnitTests.Gateway;

public sealed class BackendHealthTests
{
    [Theory]
    [InlineData("Timeout", "00:00:01.500")]
    [InlineData("Timeout", "00:00:00")]
    [InlineData("Interval", "00:00:00.050")]
    [InlineData("ConsecutiveFailures", "0")]
    [InlineData("ReactivationPeriod", "00:00:00")]
    [InlineData("Path", "alive")]
    public void AnOutOfRangeHealthSettingStopsTheGateway(string setting, string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Options((setting, value)));

        Assert.Contains(setting, error.Message);
    }

    [Fact]
    public async Task EveryClusterWithoutItsOwnHealthCheckIsProbedOnAliveWithinASecondAndWatchedPassively()
    {
        var filter = new BackendHealthConfigFilter(Microsoft.Extensions.Options.Options.Create(Options()));

        var cluster = await filter.ConfigureClusterAsync(new ClusterConfig { ClusterId = "batchscorer" }, CancellationToken.None);

        var health = cluster.HealthCheck!;
        Assert.Equal("HealthyAndUnknown", health.AvailableDestinationsPolicy);
        Assert.True(health.Active!.Enabled);
        Assert.Equal("/alive", health.Active.Path);
        Assert.Equal(TimeSpan.FromSeconds(1), health.Active.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(2), health.Active.Interval);
        Assert.Equal("ConsecutiveFailures", health.Active.Policy);
        Assert.True(health.Passive!.Enabled);
        Assert.Equal("TransportFailureRate", health.Passive.Policy);
        Assert.Equal("2", cluster.Metadata!["ConsecutiveFailuresHealthPolicy.Threshold"]);
    }

    [Fact]
    public async Task AClusterConfiguringItsOwnHealthCheckOrTurnedOffSettingsAreLeftAlone()
    {
        var own = new ClusterConfig { ClusterId = "own", HealthCheck = new HealthCheckConfig { Active = new ActiveHealthCheckConfig { Path = "/ready" } } };
        var on = new BackendHealthConfigFilter(Microsoft.Extensions.Options.Options.Create(Options()));
        var off = new BackendHealthConfigFilter(Microsoft.Extensions.Options.Options.Create(Options(("Enabled", "false"))));

        Assert.Same(own, await on.ConfigureClusterAsync(own, CancellationToken.None));
        Assert.Null((await off.ConfigureClusterAsync(new ClusterConfig { ClusterId = "k8s" }, CancellationToken.None)).HealthCheck);
    }

    private static BackendHealthOptions Options(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder();
        foreach (var (key, value) in settings)
        {
            builder.Configuration[$"{BackendHealthOptions.SectionName}:{key}"] = value;
        }
        builder.AddBackendHealth();
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<BackendHealthOptions>>().Value;
    }
}
