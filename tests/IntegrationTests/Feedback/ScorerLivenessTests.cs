using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>A scorer that cannot serve any model says so on <c>/alive</c>, so its orchestrator restarts it; it recovers when a model loads.</summary>
[Collection(ScorerLivenessCollection.Name)]
public sealed class ScorerLivenessTests(ScorerLivenessFixture platform)
{
    [Fact]
    public async Task AScorerThatCannotServeAnyModelIsNotAliveUntilOneLoads()
    {
        using var client = platform.CreateGatewayClient();
        using var scorer = platform.App.CreateHttpClient("onlinescorer", "http");
        Assert.Equal(HttpStatusCode.OK, (await scorer.GetAsync("/alive").WaitAsync(PlatformFixture.RequestTimeout)).StatusCode);

        var name = UniqueName("stuck");
        var (v1, sha1) = await RegisterAsync(client, name, "linear-v1.onnx");
        // The stored artifact is damaged, so no scorer can load the model's only version.
        var blob = Path.Combine(platform.DataDir, "registry", "blobs", "sha256", sha1[..2], sha1);
        var bytes = await File.ReadAllBytesAsync(blob);
        bytes[^1] ^= 0xFF;
        File.SetAttributes(blob, FileAttributes.Normal);
        await File.WriteAllBytesAsync(blob, bytes);
        await SetAliasAsync(client, name, "production", v1);

        await EventuallyAsync(async () =>
        {
            using var alive = await scorer.GetAsync("/alive");
            return alive.StatusCode == HttpStatusCode.ServiceUnavailable;
        }, "/alive reports the scorer unhealthy");

        var (v2, _) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetAliasAsync(client, name, "production", v2);
        await EventuallyAsync(async () =>
        {
            using var alive = await scorer.GetAsync("/alive");
            return alive.StatusCode == HttpStatusCode.OK;
        }, "/alive reports the scorer healthy again once a model serves");
    }
}
