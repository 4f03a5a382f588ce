namespace MlPlatform.IntegrationTests.Gateway;

[Collection(DevelopmentKeyCollection.Name)]
public sealed class DevelopmentKeyTests(DevelopmentKeyFixture platform)
{
    [Fact]
    public async Task WithoutAConfiguredKeyTheAppHostGeneratesAnAdminKeyIntoTheDataFolder()
    {
        Assert.True(File.Exists(platform.KeyFile), $"{platform.KeyFile} was not written.");
        var key = (await File.ReadAllTextAsync(platform.KeyFile)).Trim();
        Assert.Matches("^[A-Za-z0-9_-]{43}$", key);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(platform.KeyFile));
        }

        using var admin = platform.CreateGatewayClient(key);
        using var response = await admin.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var oldKey = platform.CreateGatewayClient(PlatformFixture.AdminApiKey);
        using var refused = await oldKey.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
