namespace MlPlatform.IntegrationTests.Registry;

/// <summary>The shared fixture's platform, pointed at a given data folder (later settings override the fixture's own folder).</summary>
internal sealed class SharedDataPlatform(string dataDir) : PlatformFixture, IAsyncDisposable
{
    protected override IEnumerable<string> ExtraArguments =>
    [
        $"Platform:DataDir={dataDir}",
        OneBatchReplica,
    ];

    public static async Task<SharedDataPlatform> StartAsync(string dataDir)
    {
        var platform = new SharedDataPlatform(dataDir);
        await platform.InitializeAsync();
        return platform;
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
}
