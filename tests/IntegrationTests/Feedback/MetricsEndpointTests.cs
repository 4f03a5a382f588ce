namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>Every service serves a Prometheus scrape endpoint with process, runtime and HTTP metrics, without the internal credential.</summary>
[Collection(PlatformCollection.Name)]
public sealed class MetricsEndpointTests(PlatformFixture platform)
{
    [Theory]
    [InlineData("modelregistry")]
    [InlineData("onlinescorer")]
    [InlineData("batchscorer")]
    [InlineData("gateway")]
    public async Task EveryServiceServesProcessAndRuntimeMetricsForScrapers(string service)
    {
        using var client = platform.App.CreateHttpClient(service, "http");

        using var response = await client.GetAsync("/metrics").WaitAsync(PlatformFixture.RequestTimeout);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("process_memory_usage_bytes", body);
        Assert.Contains("process_cpu_time_seconds_total", body);
        Assert.Contains("dotnet_gc_", body);
    }
}
