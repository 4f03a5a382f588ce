using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Health;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

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
        Assert.Equal(TimeSpan.FromSeconds(1), health.Active.Interval);
        Assert.Equal("ConsecutiveFailures", health.Active.Policy);
        Assert.True(health.Passive!.Enabled);
        Assert.Equal("ConnectFailure", health.Passive.Policy);
        Assert.Equal(TimeSpan.FromSeconds(2), health.Passive.ReactivationPeriod);
        Assert.Equal("3", cluster.Metadata!["ConsecutiveFailuresHealthPolicy.Threshold"]);
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

    [Fact]
    public void ARefusedConnectionTakesAnInstanceOutForTheReactivationPeriodAndAClientsCancelledRequestDoesNot()
    {
        var updates = new RecordingHealthUpdater();
        var policy = new ConnectFailureHealthPolicy(updates, Microsoft.Extensions.Options.Options.Create(Options(("ReactivationPeriod", "00:00:03"))));
        var cluster = new Yarp.ReverseProxy.Model.ClusterState("onlinescorer");
        var destination = new Yarp.ReverseProxy.Model.DestinationState("d1");

        policy.RequestProxied(Failed(ForwarderError.RequestCanceled, new OperationCanceledException()), cluster, destination);
        policy.RequestProxied(Failed(ForwarderError.RequestBodyClient, new IOException("client went away")), cluster, destination);
        policy.RequestProxied(Failed(ForwarderError.Request, new HttpRequestException("reset", new IOException("connection reset"))), cluster, destination);
        Assert.Empty(updates.Passive);

        var refused = new HttpRequestException("refused", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
        policy.RequestProxied(Failed(ForwarderError.Request, refused), cluster, destination);
        Assert.Equal([(Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy, TimeSpan.FromSeconds(3))], updates.Passive);
    }

    private static DefaultHttpContext Failed(ForwarderError error, Exception exception)
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IForwarderErrorFeature>(new ForwarderErrorFeature(error, exception));
        return context;
    }

    private sealed record ForwarderErrorFeature(ForwarderError Error, Exception? Exception) : IForwarderErrorFeature;

    /// <summary>YARP's own updater is internal; this records what the policy asks of it.</summary>
    private sealed class RecordingHealthUpdater : Yarp.ReverseProxy.Health.IDestinationHealthUpdater
    {
        public List<(Yarp.ReverseProxy.Model.DestinationHealth Health, TimeSpan Reactivation)> Passive { get; } = [];

        public void SetPassive(Yarp.ReverseProxy.Model.ClusterState cluster, Yarp.ReverseProxy.Model.DestinationState destination,
            Yarp.ReverseProxy.Model.DestinationHealth newHealth, TimeSpan reactivationPeriod) => Passive.Add((newHealth, reactivationPeriod));

        public void SetActive(Yarp.ReverseProxy.Model.ClusterState cluster, IEnumerable<Yarp.ReverseProxy.Health.NewActiveDestinationHealth> newHealthStates)
        {
        }
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
