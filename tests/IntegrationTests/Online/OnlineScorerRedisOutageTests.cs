using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Online;

[Collection(OnlineScorerRedisOutageCollection.Name)]
public sealed class OnlineScorerRedisOutageTests(OnlineScorerRedisOutageFixture platform)
{
    [Fact]
    public async Task TheScorerKeepsServingThroughARedisOutageAndPicksUpAPromotionMadeDuringItOnceRedisIsBack()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("redis-outage");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetAliasAsync(client, name, "production", v1);
        Assert.Equal(v1.ToString(System.Globalization.CultureInfo.InvariantCulture), await ServedVersionAsync(client, name));

        var commands = platform.App.Services.GetRequiredService<ResourceCommandService>();
        var stopped = await commands.ExecuteCommandAsync("redis", KnownResourceCommands.StopCommand).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.True(stopped.Success, stopped.Message);
        try
        {
            // Inference does not depend on Redis (fleet statistics are fire-and-forget, the cache is off).
            Assert.Equal(v1.ToString(System.Globalization.CultureInfo.InvariantCulture), await ServedVersionAsync(client, name));
            // The registry commits the promotion; its announcement cannot reach anyone now.
            await SetAliasAsync(client, name, "production", v2);
            Assert.Equal(v1.ToString(System.Globalization.CultureInfo.InvariantCulture), await ServedVersionAsync(client, name));
        }
        finally
        {
            var started = await commands.ExecuteCommandAsync("redis", KnownResourceCommands.StartCommand).WaitAsync(PlatformFixture.RequestTimeout);
            Assert.True(started.Success, started.Message);
        }
        await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("redis").WaitAsync(PlatformFixture.StartTimeout);

        // Without a restart of the scorer and long before its next periodic reconciliation (10 minutes), v2 takes over.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        string served;
        do
        {
            served = await ServedVersionAsync(client, name);
        }
        while (served != v2.ToString(System.Globalization.CultureInfo.InvariantCulture) && DateTime.UtcNow < deadline && await Delay());
        Assert.Equal(v2.ToString(System.Globalization.CultureInfo.InvariantCulture), served);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(500);
        return true;
    }

    private static async Task<string> ServedVersionAsync(HttpClient client, string name)
    {
        using var input = LinearInput(1f);
        var (response, message) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false);
        using (response)
        using (message)
        {
            return response.ModelVersion;
        }
    }
}
