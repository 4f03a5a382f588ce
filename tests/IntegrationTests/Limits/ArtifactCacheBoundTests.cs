using System.Diagnostics;
using Xunit.Abstractions;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Limits;

/// <summary>Issue 16: the scorer's artifact cache stays in its bound however many versions are asked for on demand.</summary>
[Collection(LimitsCollection.Name)]
public sealed class ArtifactCacheBoundTests(LimitsFixture platform, ITestOutputHelper output)
{
    private const int Versions = 50;

    [Fact]
    public async Task FiftyVersionsRequestedOnDemandKeepTheCacheUnderItsBound()
    {
        var started = Stopwatch.GetTimestamp();
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("many");
        var model = await File.ReadAllBytesAsync(RegistryTestSupport.RepositoryFile("models", "online", "linear-v1.onnx"));

        // Fifty different artifacts of one tiny model: each gets its own doc_string (ModelProto field 6, appended: the last one counts).
        var versions = new List<int>();
        foreach (var chunk in Enumerable.Range(0, Versions).Chunk(5))
        {
            versions.AddRange(await Task.WhenAll(chunk.Select(i => RegistryTestSupport.RegisterAsync(client, name, WithDocString(model, $"variant {i}")))));
        }

        var cache = Path.Combine(platform.DataDir, "onlinescorer", "artifacts");
        var peak = 0L;
        foreach (var version in versions)
        {
            var (status, body, _) = await PostJsonAsync(client, $"/v2/models/{name}/versions/{version}/infer",
                "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}");
            Assert.True(status == HttpStatusCode.OK, $"version {version}: {(int)status} {body.RootElement}");
            peak = Math.Max(peak, DiskUse(cache));
        }

        // Without a bound the cache would hold all fifty (about 13 KB); the versions loaded (pinned) fit in the bound by themselves.
        Assert.True(peak <= LimitsFixture.ArtifactCacheBytes, $"the artifact cache took {peak} bytes on disk; its bound is {LimitsFixture.ArtifactCacheBytes}");
        output.WriteLine($"peak cache {peak} bytes for {Versions} versions; the test took {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
    }

    private static byte[] WithDocString(byte[] model, string doc)
    {
        var text = System.Text.Encoding.UTF8.GetBytes(doc);
        return [.. model, 0x32, (byte)text.Length, .. text];
    }

    private static long DiskUse(string folder) =>
        Directory.Exists(folder) ? new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;
}
