namespace MlPlatform.IntegrationTests.Platform;

/// <summary>
/// The AppHost refuses to start when it can run no Redis at all. Nothing is started: the AppHost's own code stops while the model is built,
/// so these tests need no platform fixture.
/// </summary>
public sealed class AppHostRedisStartTests
{
    private const string BothFixes =
        "Fix one of: start a container runtime (Docker or Podman), or install Redis locally ('sudo apt-get install -y redis-server'). " +
        "Set Redis:Mode=container|local to force a choice.";

    [Fact]
    public async Task WithNeitherAContainerRuntimeNorARedisServerTheAppHostStopsWithOneMessageNamingBothFixes()
    {
        var missingServer = MissingRedisServer();

        var failure = await StartFailureAsync(
            "Redis:Mode=auto",
            // A runtime that is not installed answers no more than an installed one without its engine.
            "ASPIRE_CONTAINER_RUNTIME=mlplatform-no-such-container-runtime",
            $"Redis:ServerPath={missingServer}");

        Assert.Equal(
            "Redis is required and none can be started: no container runtime answers ('mlplatform-no-such-container-runtime info' failed) " +
            $"and '{missingServer}' (Redis:ServerPath) does not exist. {BothFixes}",
            failure.Message);
    }

    [Fact]
    public async Task WithRedisModeLocalAndNoRedisServerTheAppHostStopsWithOneMessageNamingBothFixes()
    {
        var failure = await StartFailureAsync("Redis:Mode=local", "Redis:ServerPath=mlplatform-no-such-redis-server");

        Assert.Equal(
            "Redis is required and none can be started: Redis:Mode=local rules out a container " +
            $"and 'mlplatform-no-such-redis-server' is not on PATH. {BothFixes}",
            failure.Message);
    }

    private static string MissingRedisServer() =>
        Path.Combine(Path.GetTempPath(), "mlplatform-tests", Guid.NewGuid().ToString("N"), "redis-server");

    private static async Task<DistributedApplicationException> StartFailureAsync(params string[] redisSettings)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "mlplatform-tests", Guid.NewGuid().ToString("N"));
        string[] args = [$"Platform:DataDir={dataDir}", "Platform:GatewayPort=0", "Platform:DemoModel=false", .. redisSettings];
        try
        {
            return await Assert.ThrowsAsync<DistributedApplicationException>(async () =>
            {
                var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(args).WaitAsync(PlatformFixture.StartTimeout);
                await using var app = await builder.BuildAsync().WaitAsync(PlatformFixture.StartTimeout);
                await app.StartAsync().WaitAsync(PlatformFixture.StartTimeout);
            });
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }
}
