using System.Text.Json;

namespace MlPlatform.IntegrationTests.Platform;

[Collection(PlatformCollection.Name)]
public sealed class FoundationTests(PlatformFixture platform)
{
    [Fact]
    public async Task GatewayRoutesServerReadinessToTheOnlineScorer()
    {
        using var client = platform.CreateGatewayClient();

        using var response = await client.GetAsync("/v2/health/ready").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.GetProperty("ready").GetBoolean());
    }

    [Fact]
    public async Task GatewayRoutesServerLivenessToTheOnlineScorer()
    {
        using var client = platform.CreateGatewayClient();

        using var response = await client.GetAsync("/v2/health/live").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.GetProperty("live").GetBoolean());
    }

    [Fact]
    public async Task RegistryListsNoModelsOnAFreshDataFolder()
    {
        using var client = platform.CreateGatewayClient();

        // Other tests of this collection register models, so the fresh folder shows through a prefix none of them uses.
        using var response = await client.GetAsync("/v1/models?prefix=foundation-unused-").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(0, body.RootElement.GetProperty("count").GetInt64());
        Assert.Equal(0, body.RootElement.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task BatchScorerListsJobsInPages()
    {
        using var client = platform.CreateGatewayClient();

        // Other tests of this collection submit jobs, so only the page itself is fixed here.
        using var response = await client.GetAsync("/v1/batch/jobs?pageIndex=0&pageSize=5").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(0, body.RootElement.GetProperty("pageIndex").GetInt32());
        Assert.Equal(5, body.RootElement.GetProperty("pageSize").GetInt32());
        var items = body.RootElement.GetProperty("items").GetArrayLength();
        Assert.InRange(items, 0, 5);
        Assert.True(body.RootElement.GetProperty("count").GetInt64() >= items);
    }

    [Fact]
    public async Task RedisRunsWithAppendOnlyPersistenceInTheDataFolder()
    {
        var connectionString = await platform.App.GetConnectionStringAsync("redis").AsTask().WaitAsync(PlatformFixture.RequestTimeout);
        Assert.False(string.IsNullOrEmpty(connectionString));
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(connectionString + ",allowAdmin=true")
            .WaitAsync(PlatformFixture.RequestTimeout);
        var server = redis.GetServers().Single();

        var config = (await server.ConfigGetAsync("*")).ToDictionary(p => p.Key, p => p.Value);

        Assert.Equal("yes", config["appendonly"]);
        Assert.Equal("everysec", config["appendfsync"]);
        Assert.Equal(Path.Combine(platform.DataDir, "redis"), config["dir"]);
        Assert.Equal("127.0.0.1", config["bind"]);
    }

    [Fact]
    public async Task UnknownPathsAreNotRoutedToAnyBackend()
    {
        using var client = platform.CreateGatewayClient();

        using var response = await client.GetAsync("/v1/secrets").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
