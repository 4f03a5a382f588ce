using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using MlPlatform.IntegrationTests.Online;
using Xunit.Abstractions;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>
/// Production never waits for its shadow: with a one-copy shadow queue (this fixture's <c>OnlineScorer:Shadow:QueueCapacity=1</c>) and a
/// slow shadow version, copies are dropped and counted while every production request is answered.
/// </summary>
[Collection(OnlineScorerRedisOutageCollection.Name)]
public sealed partial class ShadowQueueTests(OnlineScorerRedisOutageFixture platform, ITestOutputHelper output)
{
    [Fact]
    public async Task AFullShadowQueueDropsAndCountsCopiesWhileEveryProductionRequestSucceeds()
    {
        var clock = Stopwatch.StartNew();
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var name = OnlineScorerClient.UniqueName("shadow-full");
        var (v1, _) = await OnlineScorerClient.RegisterAsync(admin, name, "linear-v1.onnx");
        // The linear signature with a body that takes 50-150 ms per run: one shadow worker falls behind at once.
        var (slow, _) = await OnlineScorerClient.RegisterAsync(admin, name, "linear-slow.onnx");
        await OnlineScorerClient.SetServingAsync(admin, name, new { payloadLog = new { enabled = true, sampleRate = 0.0 } });
        await OnlineScorerClient.SetAliasAsync(admin, name, "production", v1);
        await OnlineScorerClient.SetAliasAsync(admin, name, "shadow", slow, weight: 100);
        var droppedBefore = await DroppedAsync();

        var answered = 0;
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            await Parallel.ForAsync(0, 40, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            {
                var (response, message) = await OnlineScorerClient.InferAsync(reader, $"/v2/models/{name}/infer", [OnlineScorerClient.LinearInput(i)],
                    binaryInputs: false);
                using (response)
                using (message)
                {
                    // InferAsync fails the test on any answer but 200; production's version answered, not the shadow.
                    Assert.Equal(v1.ToString(CultureInfo.InvariantCulture), response.ModelVersion);
                    Interlocked.Increment(ref answered);
                }
            });
            return await DroppedAsync() > droppedBefore + 10;
        }, "the scorer drops and counts shadow copies");
        Assert.True(answered >= 40);
        output.WriteLine($"{answered} production requests answered, {await DroppedAsync() - droppedBefore} shadow copies dropped; {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>The scorer's <c>mlplatform.shadow.dropped</c> total from its Prometheus endpoint.</summary>
    private async Task<double> DroppedAsync()
    {
        using var scorer = platform.App.CreateHttpClient("onlinescorer", "http");
        var text = await scorer.GetStringAsync("/metrics").WaitAsync(PlatformFixture.RequestTimeout);
        return DroppedLine().Matches(text).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^mlplatform_shadow_dropped_total(?:\{[^}]*\})? ([0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex DroppedLine();
}
