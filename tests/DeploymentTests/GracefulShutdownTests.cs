using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MlPlatform.DeploymentTests;

public sealed class GracefulShutdownTests
{
    private static IHost Build(string shutdownTimeout)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["HostOptions:ShutdownTimeout"] = shutdownTimeout });
        builder.ConfigureGracefulShutdown();
        return builder.Build();
    }

    [Fact]
    public void ShutdownTimeoutIsReadFromTheHostOptionsSection()
    {
        using var host = Build("00:01:30");

        Assert.Equal(TimeSpan.FromSeconds(90), host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public void ZeroShutdownTimeoutStopsTheServiceFromStarting()
    {
        // The host reads HostOptions while it is built, so a bad value fails before anything listens.
        var error = Assert.Throws<OptionsValidationException>(() => Build("00:00:00").Dispose());

        Assert.Equal("HostOptions:ShutdownTimeout must be more than 0 and at most 00:10:00.", error.Message);
    }

    [Fact]
    public void EveryServiceStatesItsShutdownTimeoutInItsSettings()
    {
        foreach (var service in Repository.Services)
        {
            var settings = new ConfigurationBuilder().AddJsonFile(Repository.PathOf(service, "appsettings.json")).Build();
            var timeout = settings.GetValue<TimeSpan?>("HostOptions:ShutdownTimeout");
            Assert.NotNull(timeout);
            Assert.InRange(timeout.Value, TimeSpan.FromSeconds(1), GracefulShutdownExtensions.MaxShutdownTimeout);
        }
    }
}
