using System.Diagnostics;
using static MlPlatform.IntegrationTests.Platform.RegistryTestSupport;

namespace MlPlatform.IntegrationTests.Registry;

[Collection(RegistryInspectionTimeoutCollection.Name)]
public sealed class RegistryInspectionTimeoutTests(RegistryInspectionTimeoutFixture platform)
{
    [Fact]
    public async Task AModelThatTakesLongerThanTheInspectionTimeLimitToOpenIsRefusedAndNothingIsStored()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("slow");
        var bytes = await File.ReadAllBytesAsync(TimeBombModel);

        using var response = await UploadAsync(client, name, bytes);

        await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity,
            $"took longer than {RegistryInspectionTimeoutFixture.InspectionTimeoutSeconds} s (Inspection:TimeoutSeconds)");
        using var model = await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, model.StatusCode);
        Assert.False(File.Exists(BlobPath(platform, bytes)), "The refused model's blob was kept.");
        Assert.Empty(InspectionProcesses(platform));
        using var list = await client.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    internal static string BlobPath(PlatformFixture platform, byte[] bytes)
    {
        var sha = Sha256Of(bytes);
        return Path.Combine(platform.DataDir, "registry", "blobs", "sha256", sha[..2], sha);
    }

    /// <summary>The registry's inspection children (<c>ModelRegistry [dll] inspect &lt;blob&gt;</c>) working on this platform's blobs.</summary>
    internal static List<int> InspectionProcesses(PlatformFixture platform)
    {
        var blobs = Path.Combine(platform.DataDir, "registry", "blobs") + Path.DirectorySeparatorChar;
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            string[] args;
            try
            {
                args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (IOException)
            {
                continue; // Exited while being read.
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            if (args is [.., "inspect", var blob] && blob.StartsWith(blobs, StringComparison.Ordinal))
            {
                found.Add(pid);
            }
        }
        return found;
    }
}

[Collection(RegistryFaultCollection.Name)]
public sealed class RegistryInspectionCrashTests(RegistryFaultFixture platform)
{
    [Fact]
    public async Task AnInspectionProcessKilledBySignalIsReportedAsACrashNothingIsStoredAndTheRegistryKeepsServing()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("crash");
        var bytes = await File.ReadAllBytesAsync(TimeBombModel);

        // The slow model keeps the inspection child busy for seconds: long enough to kill it for real, as the kernel's OOM killer
        // or an ORT abort would.
        var upload = UploadAsync(client, name, bytes);
        var child = await FindInspectionProcessAsync(upload).WaitAsync(PlatformFixture.RequestTimeout);
        using (var process = Process.GetProcessById(child))
        {
            process.Kill();
        }
        using var response = await upload;

        await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity,
            "ONNX Runtime crashed while opening the model (inspection process killed by signal 9 (SIGKILL))");
        using var model = await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, model.StatusCode);
        Assert.False(File.Exists(RegistryInspectionTimeoutTests.BlobPath(platform, bytes)), "The refused model's blob was kept.");
        Assert.Equal(1, await RegisterAsync(client, name, await File.ReadAllBytesAsync(MlpModel)));
    }

    private async Task<int> FindInspectionProcessAsync(Task<HttpResponseMessage> upload)
    {
        while (true)
        {
            if (upload.IsCompleted)
            {
                using var early = await upload;
                Assert.Fail($"The upload finished ({(int)early.StatusCode}: {await early.Content.ReadAsStringAsync()}) before its inspection process was seen.");
            }
            if (RegistryInspectionTimeoutTests.InspectionProcesses(platform) is [var pid])
            {
                return pid;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }
}
