namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>Every service serves a Prometheus scrape endpoint with process, runtime and HTTP metrics (without the per-request instruments nothing reads): backends without the internal credential, the public gateway to key holders.</summary>
[Collection(PlatformCollection.Name)]
public sealed class MetricsEndpointTests(PlatformFixture platform)
{
    [Theory]
    [InlineData("modelregistry")]
    [InlineData("onlinescorer")]
    [InlineData("batchscorer")]
    public async Task EveryBackendServesProcessAndRuntimeMetricsForScrapers(string service)
    {
        using var client = platform.App.CreateHttpClient(service, "http");
        await AssertServesMetricsAsync(client);
    }

    [Fact]
    public async Task TheGatewayServesItsOwnMetricsOnlyToAKeyHolder()
    {
        using (var anonymous = platform.CreateGatewayClient(apiKey: null))
        using (var refused = await anonymous.GetAsync("/metrics").WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var body = await AssertServesMetricsAsync(reader);

        // The refused request above went through authentication, authorization and routing: the dashboard's request histogram has it,
        // the per-request instruments nothing reads (UnreadInstruments) are not recorded.
        Assert.Contains("http_server_request_duration_seconds", body);
        Assert.DoesNotContain("aspnetcore_authorization_attempts", body);
        Assert.DoesNotContain("aspnetcore_authentication_authenticate_duration", body);
    }

    private static async Task<string> AssertServesMetricsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics").WaitAsync(PlatformFixture.RequestTimeout);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("process_memory_usage_bytes", body);
        Assert.Contains("process_cpu_time_seconds_total", body);
        Assert.Contains("dotnet_gc_", body);
        // Dropped everywhere (ServiceDefaults' UnreadInstruments): updated per request or per 4 KiB buffer, read by nothing.
        Assert.DoesNotContain("aspnetcore_routing_match_attempts", body);
        Assert.DoesNotContain("aspnetcore_memory_pool_", body);
        return body;
    }
}
