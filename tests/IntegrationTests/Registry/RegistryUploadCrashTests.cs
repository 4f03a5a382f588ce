using System.Net.Http.Headers;
using MlPlatform.IntegrationTests.Batch;
using MlPlatform.IntegrationTests.Feedback;
using MlPlatform.IntegrationTests.Online;
using static MlPlatform.IntegrationTests.Platform.RegistryTestSupport;

namespace MlPlatform.IntegrationTests.Registry;

/// <summary>
/// A registry killed mid-upload. It shares the batch fault platform, whose tests already kill and restart processes one at a time,
/// because that platform keeps the default upload limit (the registry fault platform's is 64 KiB).
/// </summary>
[Collection(BatchFaultCollection.Name)]
public sealed class RegistryUploadCrashTests(BatchFaultFixture platform)
{
    [Fact]
    public async Task ARegistryKilledDuringAnUploadLeavesNoOrphanAndTheRetriedUploadRegistersOnce()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("killed");
        var bytes = OnnxBytes.Padded(await File.ReadAllBytesAsync(MlpModel), 30 * 1024 * 1024);
        var key = Guid.NewGuid().ToString();

        // The body stops after 10 MiB until the registry is dead, so the kill lands mid-upload for sure.
        var registry = (await ResourceProcesses.RunningAsync(platform, "modelregistry")).Single().Process;
        var killed = new TaskCompletionSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/models/{name}/versions") { Content = new PausingContent(bytes, 10 << 20, killed.Task) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("Idempotency-Key", key);
        var upload = client.SendAsync(request);
        var tempDir = Path.Combine(platform.DataDir, "registry", "blobs", "tmp");
        await OnlineScorerClient.EventuallyAsync(
            () => Task.FromResult(Directory.Exists(tempDir) && Directory.GetFiles(tempDir).Any(f => new FileInfo(f).Length > 0)),
            "the registry stages the upload");
        // SIGKILL to the registry and the launcher the app host may start it through.
        registry.Kill(entireProcessTree: true);
        await registry.WaitForExitAsync().WaitAsync(PlatformFixture.RequestTimeout);
        killed.SetResult();
        try
        {
            using var interrupted = await upload.WaitAsync(PlatformFixture.RequestTimeout);
            Assert.NotEqual(HttpStatusCode.Created, interrupted.StatusCode);
        }
        catch (HttpRequestException)
        {
            // The connection died with the registry.
        }

        await RegistryStorageTests.StartRegistryAsync(platform);
        await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("modelregistry").WaitAsync(PlatformFixture.StartTimeout);
        await platform.WaitForGatewayRouteAsync("/v1/models");

        Assert.Empty(Directory.GetFiles(tempDir));
        using (var missing = await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }
        var versioned = await RegistryStorageTests.VersionedBlobsAsync(client);
        Assert.All(versioned, sha => Assert.True(File.Exists(Path.Combine(platform.DataDir, "registry", "blobs", "sha256", sha[..2], sha)), $"Version blob {sha} is missing."));
        Assert.All(RegistryStorageTests.BlobFiles(platform), sha => Assert.Contains(sha, versioned));

        using var retried = await UploadAsync(client, name, bytes, key);
        using var again = await UploadAsync(client, name, bytes, key);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        using var model = await ReadJsonAsync(await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout));
        Assert.Equal(1, model.RootElement.GetProperty("versions").GetArrayLength());
        Assert.Equal(Sha256Of(bytes), model.RootElement.GetProperty("versions")[0].GetProperty("sha256").GetString());
    }

    /// <summary>Sends <paramref name="bytes"/>, pausing after <paramref name="pauseAfter"/> bytes until <paramref name="resume"/> completes.</summary>
    private sealed class PausingContent(byte[] bytes, int pauseAfter, Task resume) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, pauseAfter));
            await stream.FlushAsync();
            await resume;
            await stream.WriteAsync(bytes.AsMemory(pauseAfter));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }
}
