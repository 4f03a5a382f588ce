using static MlPlatform.IntegrationTests.Platform.RegistryTestSupport;

namespace MlPlatform.IntegrationTests.Registry;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WholePlatformRestartCollection
{
    public const string Name = "WholePlatformRestart";
}

/// <summary>Starts the platform twice over one data folder, as a developer stopping and starting <c>./platform start</c> does.</summary>
[Collection(WholePlatformRestartCollection.Name)]
public sealed class RegistryWholePlatformRestartTests
{
    [Fact]
    public async Task ModelsAliasesAndArtifactsSurviveARestartOfTheWholePlatform()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "mlplatform-tests", $"restart-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDir);
        var name = UniqueName("lasting");
        var bytes = await File.ReadAllBytesAsync(MlpModel);
        try
        {
            await using (var first = await SharedDataPlatform.StartAsync(dataDir))
            {
                using var client = first.CreateGatewayClient();
                await RegisterAsync(client, name, bytes);
                using var set = await SetAliasAsync(client, name, "production", 1, "before the platform stops");
                Assert.Equal(HttpStatusCode.OK, set.StatusCode);
            }

            await using var second = await SharedDataPlatform.StartAsync(dataDir);
            using var again = second.CreateGatewayClient();
            using var model = await ReadJsonAsync(await again.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout));
            Assert.Equal(Sha256Of(bytes), model.RootElement.GetProperty("versions")[0].GetProperty("sha256").GetString());
            Assert.Equal(1, model.RootElement.GetProperty("aliases").EnumerateArray().Single().GetProperty("version").GetInt32());
            using var artifact = await again.GetAsync($"/v1/artifacts/{Sha256Of(bytes)}").WaitAsync(PlatformFixture.RequestTimeout);
            Assert.Equal(bytes, await artifact.Content.ReadAsByteArrayAsync());
        }
        finally
        {
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
                // A file still held by a process that is shutting down; the temp folder is cleaned by the OS.
            }
        }
    }
}
