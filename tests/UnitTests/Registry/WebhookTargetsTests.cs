using System.Net;
using Microsoft.Extensions.Configuration;
using MlPlatform.ModelRegistry.Alerts;
using MlPlatform.ModelRegistry.Inspection;

namespace MlPlatform.UnitTests.Registry;

public sealed class WebhookTargetsTests
{
    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data", "169.254.169.254 is link-local")]
    [InlineData("http://127.0.0.1:9000/hook", "127.0.0.1 is a loopback address")]
    [InlineData("http://[::1]/hook", "::1 is a loopback address")]
    [InlineData("http://10.1.2.3/hook", "10.1.2.3 is a private address")]
    [InlineData("http://172.20.0.1/hook", "172.20.0.1 is a private address")]
    [InlineData("http://192.168.1.1/hook", "192.168.1.1 is a private address")]
    [InlineData("http://[::ffff:10.0.0.1]/hook", "10.0.0.1 is a private address")]
    [InlineData("http://[fd00::1]/hook", "fd00::1 is a private (unique local) address")]
    [InlineData("http://onlinescorer/v2/models", "'onlinescorer' names one of the platform's own services")]
    [InlineData("http://modelregistry.default.svc.cluster.local/x", "'modelregistry.default.svc.cluster.local' is a local or cluster-internal name")]
    [InlineData("http://alertmanager.monitoring.svc.cluster.local/x", "is a local or cluster-internal name")]
    [InlineData("http://localhost:8080/", "'localhost' is a local or cluster-internal name")]
    [InlineData("http://alertmanager:9093/", "'alertmanager' is an unqualified name")]
    public void TargetsInsideThePlatformsNetworkAreRefusedWithTheReason(string url, string reason)
    {
        var refused = WebhookTargets.RefuseUrl(new Uri(url), WebhookTargets.PlatformServices);
        Assert.NotNull(refused);
        Assert.Contains(reason, refused);
    }

    [Theory]
    [InlineData("https://hooks.example.com/services/T000/B000/XXXX")]
    [InlineData("http://203.0.113.7:8080/alert")]
    [InlineData("https://[2001:db8::1]/alert")]
    public void PublicTargetsAreAllowed(string url) =>
        Assert.Null(WebhookTargets.RefuseUrl(new Uri(url), WebhookTargets.PlatformServices));

    [Fact]
    public void ServiceDiscoveryNamesAreThePlatformsOwnServices()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["services:feature-store:http:0"] = "http://10.0.0.5:80" })
            .Build();
        var options = new AlertOptions { Webhooks = [new WebhookOptions { Url = "http://feature-store/hook?token=s3cret" }] };

        var result = new WebhookTargetValidator(configuration).Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(
            "Alerts:Webhooks:0:Url (http://feature-store/…) is refused: 'feature-store' names one of the platform's own services. " +
            "Webhooks may only reach public addresses; set Alerts:AllowPrivateWebhookTargets=true to allow it.",
            result.FailureMessage);
        Assert.DoesNotContain("s3cret", result.FailureMessage);
    }

    [Fact]
    public void TheSwitchAllowsPrivateTargets()
    {
        var options = new AlertOptions { AllowPrivateWebhookTargets = true, Webhooks = [new WebhookOptions { Url = "http://127.0.0.1:9/hook" }] };
        Assert.True(new WebhookTargetValidator(new ConfigurationBuilder().Build()).Validate(null, options).Succeeded);
    }

    [Fact]
    public void LoggedUrlsKeepSchemeHostAndPortOnly() =>
        Assert.Equal("https://hooks.example.com:8443/…", WebhookTargets.Redact("https://user:pw@hooks.example.com:8443/services/T0/B0?token=abc#x"));

    [Fact]
    public void APublicAddressIsNotRefused() => Assert.Null(WebhookTargets.RefuseAddress(IPAddress.Parse("93.184.216.34")));
}

public sealed class PathRedactionTests
{
    [Fact]
    public void ServerPathsInAnOnnxRuntimeMessageAreReplaced()
    {
        const string model = "/data/registry/blobs/sha256/ab/abcdef";
        var message = $"Load model from {model} failed: external data file /data/registry/blobs/sha256/ab/../../../../etc/passwd not found; ratio 1/2";

        var redacted = PathRedaction.Redact(message, model);

        Assert.Equal("Load model from <model> failed: external data file <path> not found; ratio 1/2", redacted);
    }
}
