using System.Diagnostics;
using MlPlatform.IntegrationTests.Feedback;
using MlPlatform.IntegrationTests.Online;
using static MlPlatform.IntegrationTests.Platform.RegistryTestSupport;

namespace MlPlatform.IntegrationTests.Registry;

/// <summary>What the registry's storage survives: a lost database, a crash mid-upload, a lost blob, and hostile files.</summary>
[Collection(RegistryFaultCollection.Name)]
public sealed class RegistryStorageTests(RegistryFaultFixture platform)
{
    private string DataDir => Path.Combine(platform.DataDir, "registry");

    private string BlobsDir => Path.Combine(DataDir, "blobs");

    internal static SortedSet<string> BlobFiles(PlatformFixture platform)
    {
        var root = Path.Combine(platform.DataDir, "registry", "blobs", "sha256");
        return new(Directory.Exists(root) ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(Path.GetFileName).OfType<string>() : [], StringComparer.Ordinal);
    }

    [Fact]
    public async Task ARegistryWhoseDatabaseIsGoneRefusesToStartKeepsEveryBlobAndServesAgainOnceTheDatabaseIsRestored()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("lostdb");
        var first = OnnxBytes.Padded(await File.ReadAllBytesAsync(MlpModel), 1024);
        var second = OnnxBytes.Padded(await File.ReadAllBytesAsync(MlpModel), 1024);
        await RegisterAsync(client, name, first);
        await RegisterAsync(client, name, second);
        var blobsBefore = BlobFiles();
        var quarantinedBefore = QuarantinedFiles();

        await StopRegistryAsync();
        var aside = Path.Combine(platform.DataDir, $"db-backup-{Guid.NewGuid():N}");
        Directory.CreateDirectory(aside);
        var databaseFiles = Directory.GetFiles(DataDir, "registry.db*");
        foreach (var file in databaseFiles)
        {
            File.Move(file, Path.Combine(aside, Path.GetFileName(file)));
        }

        await using (var logs = await ResourceLogs.StartAsync(platform.App, "modelregistry"))
        {
            await StartRegistryAsync();
            await OnlineScorerClient.EventuallyAsync(
                () => Task.FromResult(logs.Lines.Any(l => l.Contains("is missing or empty, but", StringComparison.Ordinal))),
                "the registry logs why it refuses to start");
            var refusal = logs.Lines.First(l => l.Contains("is missing or empty, but", StringComparison.Ordinal));
            Assert.Contains($"{blobsBefore.Count} artifact blob(s) exist", refusal);
            Assert.Contains("Storage__AdoptOrphanBlobs=true", refusal);
        }
        // The refused start ends the process with a failure code (the graceful stop before it ended with 0).
        await platform.App.ResourceNotifications.WaitForResourceAsync("modelregistry",
                e => new[] { KnownResourceStates.Exited, KnownResourceStates.Finished, KnownResourceStates.FailedToStart }.Contains(e.Snapshot.State?.Text)
                    && e.Snapshot.ExitCode is not (null or 0))
            .WaitAsync(PlatformFixture.StartTimeout);
        Assert.Equal(blobsBefore, BlobFiles());
        Assert.Equal(quarantinedBefore, QuarantinedFiles());
        Assert.False(File.Exists(Path.Combine(DataDir, "registry.db")), "The refused start created a database.");

        foreach (var file in databaseFiles)
        {
            File.Move(Path.Combine(aside, Path.GetFileName(file)), file);
        }
        await StartRegistryAsync();
        await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("modelregistry").WaitAsync(PlatformFixture.StartTimeout);
        // Healthy in the AppHost is not yet admitted by the gateway (its next /alive probe); the next tests of this collection register at once.
        await platform.WaitForGatewayRouteAsync("/v1/models");

        Assert.Equal(blobsBefore, BlobFiles());
        foreach (var (version, bytes) in new[] { (1, first), (2, second) })
        {
            using var artifact = await client.GetAsync($"/v1/models/{name}/versions/{version}/artifact").WaitAsync(PlatformFixture.RequestTimeout);
            Assert.Equal(HttpStatusCode.OK, artifact.StatusCode);
            Assert.Equal(bytes, await artifact.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task AVersionWhoseBlobIsMissingAnswers410WithTheReason()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("gone");
        var bytes = OnnxBytes.Padded(await File.ReadAllBytesAsync(MlpModel), 1024);
        await RegisterAsync(client, name, bytes);
        var sha = Sha256Of(bytes);
        File.Delete(Path.Combine(BlobsDir, "sha256", sha[..2], sha));

        using var byVersion = await client.GetAsync($"/v1/models/{name}/versions/1/artifact").WaitAsync(PlatformFixture.RequestTimeout);
        using var byHash = await client.GetAsync($"/v1/artifacts/{sha}").WaitAsync(PlatformFixture.RequestTimeout);

        await AssertProblemAsync(byVersion, HttpStatusCode.Gone, $"Model '{name}' version 1 is recorded, but its artifact file (sha256 {sha}) is missing");
        await AssertProblemAsync(byHash, HttpStatusCode.Gone, $"The artifact with sha256 {sha} is recorded, but its file is missing");
    }

    [Theory]
    [InlineData(true, "../../../../etc/passwd", "protobuf group field")]
    [InlineData(true, "sibling", "protobuf group field")]
    [InlineData(false, "../../../../etc/passwd", "external files")]
    [InlineData(false, "sibling", "external files")]
    public async Task AModelNamingAnotherFileAsExternalDataIsRefusedWithoutNamingAServerPath(bool groupInFront, string location, string reason)
    {
        using var client = platform.CreateGatewayClient();
        if (location == "sibling")
        {
            // Another model's blob, by the relative path from the attacker's own blob folder.
            var victim = OnnxBytes.Padded(await File.ReadAllBytesAsync(MlpModel), 64);
            await RegisterAsync(client, UniqueName("victim"), victim);
            var sha = Sha256Of(victim);
            location = $"../{sha[..2]}/{sha}";
        }
        byte[] model = [.. groupInFront ? OnnxBytes.EmptyGroup : [], .. OnnxBytes.WithExternalData(location, 64)];
        var name = UniqueName("extdata");

        using var response = await UploadAsync(client, name, model);

        await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, reason);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(platform.DataDir, body);
        Assert.DoesNotContain("/blobs/", body);
        using var refused = await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
    }

    [Fact]
    public async Task TheInspectionChildRunsWithoutTheRegistrysSecretsAndWithoutNetwork()
    {
        using var client = platform.CreateGatewayClient();
        var registry = (await ResourceProcesses.RunningAsync(platform, "modelregistry")).Single().Process;

        // The slow model keeps the child alive long enough to read its environment.
        var upload = UploadAsync(client, UniqueName("envcheck"), await File.ReadAllBytesAsync(TimeBombModel));
        var child = await FindInspectionChildAsync(upload).WaitAsync(PlatformFixture.RequestTimeout);
        var environment = File.ReadAllText($"/proc/{child}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var childNetwork = ReadLink($"/proc/{child}/ns/net");
        var registryNetwork = ReadLink($"/proc/{registry.Id}/ns/net");
        using (var process = Process.GetProcessById(child))
        {
            process.Kill();
        }
        using var response = await upload;

        string[] allowed = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "DOTNET_ROOT", "DOTNET_ROOT_X64", "DOTNET_GCHeapHardLimit", "DOTNET_gcServer", "MLPLATFORM_INSPECT_CPU_SECONDS"];
        Assert.All(environment, variable => Assert.Contains(variable.Split('=')[0], allowed));
        Assert.DoesNotContain(environment, v => v.Contains(PlatformFixture.InternalApiKey, StringComparison.Ordinal));
        Assert.Contains("MLPLATFORM_INSPECT_CPU_SECONDS=60", environment);
        // Root here, so unshare --net works: the child has a network namespace of its own.
        Assert.NotEqual(registryNetwork, childNetwork);
        await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "killed by signal 9 (SIGKILL)");
    }

    /// <summary>The inspection child once it runs the registry's code (not the unshare that starts it, whose namespace is not yet its own).</summary>
    private async Task<int> FindInspectionChildAsync(Task<HttpResponseMessage> upload)
    {
        while (true)
        {
            if (upload.IsCompleted)
            {
                using var early = await upload;
                Assert.Fail($"The upload finished ({(int)early.StatusCode}: {await early.Content.ReadAsStringAsync()}) before its inspection process was seen.");
            }
            foreach (var pid in RegistryInspectionTimeoutTests.InspectionProcesses(platform))
            {
                try
                {
                    var program = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0')[0];
                    if (!program.EndsWith("unshare", StringComparison.Ordinal))
                    {
                        return pid;
                    }
                }
                catch (IOException)
                {
                    // Exited or exec'ing while read.
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }

    private static string ReadLink(string path) => new FileInfo(path).LinkTarget ?? throw new InvalidOperationException($"{path} is not a link.");

    private SortedSet<string> BlobFiles() => BlobFiles(platform);

    private SortedSet<string> QuarantinedFiles()
    {
        var root = Path.Combine(BlobsDir, "quarantine");
        return new(Directory.Exists(root) ? Directory.EnumerateFiles(root).Select(Path.GetFileName).OfType<string>() : [], StringComparer.Ordinal);
    }

    /// <summary>The sha256 of every version of every model, read through the API.</summary>
    internal static async Task<HashSet<string>> VersionedBlobsAsync(HttpClient client)
    {
        var shas = new HashSet<string>(StringComparer.Ordinal);
        using var models = await ReadJsonAsync(await client.GetAsync("/v1/models?pageSize=500").WaitAsync(PlatformFixture.RequestTimeout));
        foreach (var summary in models.RootElement.GetProperty("items").EnumerateArray())
        {
            using var model = await ReadJsonAsync(await client.GetAsync($"/v1/models/{summary.GetProperty("name").GetString()}").WaitAsync(PlatformFixture.RequestTimeout));
            foreach (var version in model.RootElement.GetProperty("versions").EnumerateArray())
            {
                shas.Add(version.GetProperty("sha256").GetString()!);
            }
        }
        return shas;
    }

    private async Task StopRegistryAsync()
    {
        var stop = await platform.App.ResourceCommands.ExecuteCommandAsync("modelregistry", KnownResourceCommands.StopCommand).WaitAsync(PlatformFixture.StartTimeout);
        Assert.True(stop.Success, stop.Message);
        await platform.App.ResourceNotifications.WaitForResourceAsync("modelregistry", [KnownResourceStates.Finished, KnownResourceStates.Exited])
            .WaitAsync(PlatformFixture.StartTimeout);
    }

    internal static async Task StartRegistryAsync(PlatformFixture platform)
    {
        var start = await platform.App.ResourceCommands.ExecuteCommandAsync("modelregistry", KnownResourceCommands.StartCommand).WaitAsync(PlatformFixture.StartTimeout);
        Assert.True(start.Success, start.Message);
    }

    private async Task StartRegistryAsync()
    {
        var start = await platform.App.ResourceCommands.ExecuteCommandAsync("modelregistry", KnownResourceCommands.StartCommand).WaitAsync(PlatformFixture.StartTimeout);
        Assert.True(start.Success, start.Message);
    }
}
