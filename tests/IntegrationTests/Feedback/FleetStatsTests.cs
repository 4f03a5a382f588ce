using System.Text.Json;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>The scorers' per-version statistics, summed in Redis and read from the registry through the gateway.</summary>
[Collection(FeedbackCollection.Name)]
public sealed class FleetStatsTests(FeedbackFixture platform)
{
    [Fact]
    public async Task AVersionsStatsCountItsRequestsByWhoseFaultAndRouteAndItsLatencyAcrossTheFleet()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("stats");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", v1);
        using var input = LinearInput(1f);
        for (var i = 0; i < 20; i++)
        {
            var (response, message) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false);
            response.Dispose();
            message.Dispose();
        }
        // Pinned to the version: served and counted, but not part of the routed traffic that rollouts and the guard judge.
        for (var i = 0; i < 3; i++)
        {
            var (response, message) = await InferAsync(client, $"/v2/models/{name}/versions/{v1}/infer", [input], binaryInputs: false);
            response.Dispose();
            message.Dispose();
        }
        for (var i = 0; i < 5; i++)
        {
            var (status, body, message) = await PostJsonAsync(client, $"/v2/models/{name}/infer",
                """{"inputs":[{"name":"wrong","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}""");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            body.Dispose();
            message.Dispose();
        }

        JsonElement stats = default;
        await EventuallyAsync(async () =>
        {
            var (status, body) = await GetJsonAsync(client, $"/v1/models/{name}/versions/{v1}/stats?window=1m");
            Assert.Equal(HttpStatusCode.OK, status);
            stats = body.RootElement.Clone();
            return stats.GetProperty("requests").GetInt64() >= 28;
        }, "the statistics count every request");

        // The 5 requests naming an input the model does not have are the client's errors, not the version's.
        Assert.Equal(28, stats.GetProperty("requests").GetInt64());
        Assert.Equal(0, stats.GetProperty("errors").GetInt64());
        Assert.Equal(5, stats.GetProperty("clientErrors").GetInt64());
        Assert.Equal(0, stats.GetProperty("rejected").GetInt64());
        Assert.Equal(0, stats.GetProperty("errorRate").GetDouble());
        Assert.Equal(25, stats.GetProperty("routedRequests").GetInt64());
        Assert.Equal(0, stats.GetProperty("routedErrors").GetInt64());
        Assert.Equal("1m", stats.GetProperty("window").GetString());
        var p50 = stats.GetProperty("p50Ms").GetDouble();
        var p99 = stats.GetProperty("p99Ms").GetDouble();
        Assert.InRange(p50, 0, 10_000);
        Assert.True(p99 >= p50, $"p99 {p99} < p50 {p50}");
    }

    [Fact]
    public async Task AStatsWindowThatIsNotADurationIsRefusedWithProblemDetails()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var name = UniqueName("statsbad");
        using (var admin = platform.CreateGatewayClient())
        {
            await RegisterAsync(admin, name, "linear-v1.onnx");
        }

        using var response = await client.GetAsync($"/v1/models/{name}/versions/1/stats?window=5minutes").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("'window' is a duration such as 30s, 5m or 1h", body.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task StatsOfAVersionThatDoesNotExistAreNotFound()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("statsnone");
        await RegisterAsync(client, name, "linear-v1.onnx");

        using var response = await client.GetAsync($"/v1/models/{name}/versions/7/stats").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal($"Model '{name}' has no version 7.", body.RootElement.GetProperty("detail").GetString());
    }
}
