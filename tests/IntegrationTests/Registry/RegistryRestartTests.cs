using System.Text.Json;
using static MlPlatform.IntegrationTests.Platform.RegistryTestSupport;

namespace MlPlatform.IntegrationTests.Registry;

[Collection(RegistryFaultCollection.Name)]
public sealed class RegistryRestartTests(RegistryFaultFixture platform)
{
    [Fact]
    public async Task ModelsAliasesAndArtifactsSurviveARegistryRestart()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("durable");
        var bytes = await File.ReadAllBytesAsync(IrisModel);
        await RegisterAsync(client, name, bytes);
        await RegisterAsync(client, name, bytes);
        using (var set = await SetAliasAsync(client, name, "production", 2, "before restart"))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        // What a crash mid-upload leaves behind: a temp file, and a blob whose inspection never finished.
        var blobs = Path.Combine(platform.DataDir, "registry", "blobs");
        var leftoverTemp = Path.Combine(blobs, "tmp", "crashed-upload.part");
        var uninspected = Path.Combine(blobs, "sha256", "ab", "ab" + new string('c', 62));
        Directory.CreateDirectory(Path.GetDirectoryName(uninspected)!);
        await File.WriteAllBytesAsync(leftoverTemp, [1, 2, 3]);
        await File.WriteAllBytesAsync(uninspected, [4, 5, 6]);

        var stop = await platform.App.ResourceCommands.ExecuteCommandAsync("modelregistry", KnownResourceCommands.StopCommand)
            .WaitAsync(PlatformFixture.StartTimeout);
        Assert.True(stop.Success, stop.Message);
        await platform.App.ResourceNotifications.WaitForResourceAsync("modelregistry", [KnownResourceStates.Finished, KnownResourceStates.Exited])
            .WaitAsync(PlatformFixture.StartTimeout);
        var start = await platform.App.ResourceCommands.ExecuteCommandAsync("modelregistry", KnownResourceCommands.StartCommand)
            .WaitAsync(PlatformFixture.StartTimeout);
        Assert.True(start.Success, start.Message);
        await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("modelregistry").WaitAsync(PlatformFixture.StartTimeout);
        await platform.WaitForGatewayRouteAsync("/v1/models");

        using var model = await ReadJsonAsync(await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout));
        Assert.Equal(2, model.RootElement.GetProperty("latestVersion").GetInt32());
        var production = model.RootElement.GetProperty("aliases").EnumerateArray().Single(a => a.GetProperty("name").GetString() == "production");
        Assert.Equal(2, production.GetProperty("version").GetInt32());
        using var artifact = await client.GetAsync($"/v1/models/{name}/versions/2/artifact").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(bytes, await artifact.Content.ReadAsByteArrayAsync());
        using var history = await ReadJsonAsync(await client.GetAsync($"/v1/models/{name}/aliases/production/history").WaitAsync(PlatformFixture.RequestTimeout));
        Assert.Equal("before restart", history.RootElement.EnumerateArray().Single().GetProperty("reason").GetString());

        // Versions keep counting from where they were.
        Assert.Equal(3, await RegisterAsync(client, name, bytes));

        Assert.False(File.Exists(leftoverTemp));
        Assert.False(File.Exists(uninspected));
        // Not deleted at start: kept in quarantine, out of the served tree.
        Assert.True(File.Exists(Path.Combine(blobs, "quarantine", Path.GetFileName(uninspected))));
        Assert.True(File.Exists(Path.Combine(blobs, "sha256", Sha256Of(bytes)[..2], Sha256Of(bytes))));

        // The demo model was seeded once, at the first start, not again at the restart.
        using var demo = await ReadJsonAsync(await client.GetAsync("/v1/models/iris").WaitAsync(PlatformFixture.RequestTimeout));
        Assert.Equal(1, demo.RootElement.GetProperty("latestVersion").GetInt32());
        Assert.Equal(Sha256Of(await File.ReadAllBytesAsync(IrisModel)), demo.RootElement.GetProperty("versions")[0].GetProperty("sha256").GetString());
        var demoAlias = demo.RootElement.GetProperty("aliases").EnumerateArray().Single();
        Assert.Equal(("production", 1), (demoAlias.GetProperty("name").GetString(), demoAlias.GetProperty("version").GetInt32()));
    }

    [Fact]
    public async Task AModelThatExhaustsMemoryWhileLoadingIsRefusedAndTheRegistryKeepsServing()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("bomb");

        // ~200 bytes that make ONNX Runtime's constant folding allocate 1-2 GB.
        using var response = await UploadAsync(client, name, await File.ReadAllBytesAsync(MemoryBombModel));

        await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, $"more than {RegistryFaultFixture.InspectionMemoryMegabytes} MiB");
        using var model = await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, model.StatusCode);
        Assert.Equal(1, await RegisterAsync(client, name, await File.ReadAllBytesAsync(MlpModel)));
    }

    [Fact]
    public async Task AnUploadOverTheConfiguredLimitIsRefusedWith413AndLeavesNothingBehind()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("huge");
        var tooLarge = new byte[RegistryFaultFixture.MaxArtifactBytes + 1];
        Random.Shared.NextBytes(tooLarge);

        using var raw = await UploadAsync(client, name, tooLarge);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(tooLarge), "file", "huge.onnx" } };
        using var multipart = await client.PostAsync($"/v1/models/{name}/versions", form).WaitAsync(PlatformFixture.RequestTimeout);

        await AssertProblemAsync(raw, HttpStatusCode.RequestEntityTooLarge, $"maximum of {RegistryFaultFixture.MaxArtifactBytes} bytes");
        await AssertProblemAsync(multipart, HttpStatusCode.RequestEntityTooLarge, $"maximum of {RegistryFaultFixture.MaxArtifactBytes} bytes");
        using var model = await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, model.StatusCode);
        var tempDir = Path.Combine(platform.DataDir, "registry", "blobs", "tmp");
        Assert.Empty(Directory.Exists(tempDir) ? Directory.GetFiles(tempDir) : []);

        // A file within the limit still registers.
        using var small = await UploadAsync(client, name, await File.ReadAllBytesAsync(MlpModel));
        Assert.Equal(HttpStatusCode.Created, small.StatusCode);
    }
}
