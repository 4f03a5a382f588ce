using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using MlPlatform.IntegrationTests.Online;
using static MlPlatform.IntegrationTests.Quality.QualityClient;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>The payload log never costs a request: with Redis gone, clients are still answered and the lost records are counted.</summary>
[Collection(OnlineScorerRedisOutageCollection.Name)]
public sealed partial class PayloadLogRedisOutageTests(OnlineScorerRedisOutageFixture platform)
{
    [Fact]
    public async Task WithRedisStoppedMidwayEveryRequestStillSucceedsAndTheLostRecordsAreCounted()
    {
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var name = await ServeIrisAsync(admin, "payload-outage", new { enabled = true, sampleRate = 1.0 });
        var path = $"/v2/models/{name}/infer";

        var before = await SendAsync(reader, path, 100, 4, i => $"before-{i}");
        var droppedBefore = await DroppedAsync();

        var commands = platform.App.Services.GetRequiredService<ResourceCommandService>();
        var stopped = await commands.ExecuteCommandAsync("redis", KnownResourceCommands.StopCommand).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.True(stopped.Success, stopped.Message);
        var during = 0;
        try
        {
            // Requests keep being answered (SendAsync fails on any non-200) until the scorer has counted records it could not ship.
            await OnlineScorerClient.EventuallyAsync(async () =>
            {
                var answered = await SendAsync(reader, path, 50, 4, i => $"during-{during + i}");
                Assert.All(answered, a => Assert.Equal(a.Sent, a.Returned));
                during += answered.Length;
                return await DroppedAsync() > droppedBefore;
            }, "the scorer counts dropped payload records");
        }
        finally
        {
            var started = await commands.ExecuteCommandAsync("redis", KnownResourceCommands.StartCommand).WaitAsync(PlatformFixture.RequestTimeout);
            Assert.True(started.Success, started.Message);
        }
        await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("redis").WaitAsync(PlatformFixture.StartTimeout);
        Assert.Equal(100, before.Length);
        Assert.True(during >= 50);

        // Once Redis is back, recording resumes.
        await SendAsync(reader, path, 20, 4, i => $"after-{i}");
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var records = await ReadPayloadsAsync(operatorClient, name, 1, 1);
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            records = await ReadPayloadsAsync(operatorClient, name, 1, 1);
            return records.Any(r => r.GetProperty("id").GetString()!.StartsWith("after-", StringComparison.Ordinal));
        }, "records made after the outage are logged");
    }

    /// <summary>The scorer's <c>mlplatform.payload.dropped</c> total, summed over reasons, from its Prometheus endpoint.</summary>
    private async Task<double> DroppedAsync()
    {
        using var scorer = platform.App.CreateHttpClient("onlinescorer", "http");
        var text = await scorer.GetStringAsync("/metrics").WaitAsync(PlatformFixture.RequestTimeout);
        return DroppedLine().Matches(text).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^mlplatform_payload_dropped_total(?:\{[^}]*\})? ([0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex DroppedLine();
}
