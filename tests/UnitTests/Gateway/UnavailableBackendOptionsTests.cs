using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Errors;

namespace MlPlatform.UnitTests.Gateway;

public sealed class UnavailableBackendOptionsTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("3601")]
    public void ARetryAfterOutsideOneSecondToAnHourStopsTheGateway(string seconds)
    {
        var error = Assert.Throws<OptionsValidationException>(() => RetryAfterSeconds(seconds));

        Assert.Contains("RetryAfterSeconds", error.Message);
    }

    [Fact]
    public void RetryAfterIsReadFromItsSectionAndDefaultsToOneSecond()
    {
        Assert.Equal(30, RetryAfterSeconds("30"));
        Assert.Equal(1, RetryAfterSeconds(null));
    }

    private static int RetryAfterSeconds(string? configured)
    {
        var builder = Host.CreateApplicationBuilder();
        if (configured is not null)
        {
            builder.Configuration[$"{UnavailableBackendOptions.SectionName}:RetryAfterSeconds"] = configured;
        }
        builder.AddGatewayErrors();
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<UnavailableBackendOptions>>().Value.RetryAfterSeconds;
    }
}
