using System.Text.Json;

namespace MlPlatform.IntegrationTests.Platform;

/// <summary>A backend port found on the host is not a back door: services refuse requests without the internal credential, probes excepted.</summary>
[Collection(PlatformCollection.Name)]
public sealed class BackendProtectionTests(PlatformFixture platform)
{
    private const string InternalHeader = "X-MlPlatform-Internal-Key";

    [Theory]
    [InlineData("modelregistry", "/v1/models")]
    [InlineData("batchscorer", "/v1/batch/jobs")]
    public async Task ABackendCalledDirectlyWithoutTheInternalCredentialRefuses(string service, string path)
    {
        using var client = platform.App.CreateHttpClient(service, "http");

        using var response = await client.GetAsync(path).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("This service accepts requests only through the gateway.", body.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task TheOnlineScorerCalledDirectlyRefusesInTheV2Shape()
    {
        using var client = platform.App.CreateHttpClient("onlinescorer", "http");

        using var response = await client.GetAsync("/v2/health/ready").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("This service accepts requests only through the gateway.", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ABackendCalledDirectlyWithAWrongCredentialRefuses()
    {
        using var client = platform.App.CreateHttpClient("modelregistry", "http");
        client.DefaultRequestHeaders.Add(InternalHeader, PlatformFixture.InternalApiKey + "x");

        using var response = await client.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ABackendCalledDirectlyWithTheInternalCredentialAnswers()
    {
        using var client = platform.App.CreateHttpClient("modelregistry", "http");
        client.DefaultRequestHeaders.Add(InternalHeader, PlatformFixture.InternalApiKey);

        using var response = await client.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("modelregistry", "/health")]
    [InlineData("modelregistry", "/alive")]
    [InlineData("onlinescorer", "/health")]
    [InlineData("batchscorer", "/alive")]
    public async Task ProbesReachABackendWithoutTheCredential(string service, string path)
    {
        using var client = platform.App.CreateHttpClient(service, "http");

        using var response = await client.GetAsync(path).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TheOnlineScorersRegistryClientCarriesTheCredential()
    {
        // Ready means the scorer's first reconciliation with the registry succeeded, which the registry allows only with the credential.
        using var client = platform.CreateGatewayClient();

        using var response = await client.GetAsync("/v2/health/ready").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
