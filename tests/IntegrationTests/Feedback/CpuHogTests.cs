using System.Text.Json;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>
/// The test that spins every core of the test process: run alone (its own collection, not in parallel), so that it neither starves
/// another collection's timing-sensitive rollouts nor has its own latency comparison disturbed by them. Both happened once in a full
/// run while it shared the parallel phase (this rollout and a quality-gate rollout in another collection ended "failed" together).
/// </summary>
[Collection(CpuHogCollection.Name)]
public sealed class CpuHogTests(FeedbackFixture platform)
{
    [Fact]
    public async Task ASlowdownThatHitsProductionAsMuchDuringACanaryIsNoBreach()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("hog");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetAliasAsync(client, name, "production", v1);
        await using var traffic = Traffic.Start(client, name);

        // A CPU hog on every core while the canary is judged: both versions slow down together. The p99 threshold (1 µs) is one no
        // request meets, so the verdict rests on the comparison with production in the same windows.
        using var hog = new CancellationTokenSource();
        var spinners = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => Task.Factory.StartNew(() =>
        {
            var x = 0L;
            while (!hog.IsCancellationRequested)
            {
                x++;
            }
            return x;
        }, TaskCreationOptions.LongRunning)).ToArray();
        JsonElement rollout;
        try
        {
            var id = await RolloutTests.StartAsync(client, name,
                new { version = v2, steps = new[] { 50 }, stepInterval = "3s", minRequests = 20, maxErrorRate = 0.05, maxP99Ms = 0.001, deadline = "2m" });
            rollout = await RolloutTests.WaitForOutcomeAsync(client, name, id);
        }
        finally
        {
            await hog.CancelAsync();
            await Task.WhenAll(spinners);
        }

        Assert.Equal("succeeded", rollout.GetProperty("status").GetString());
        var promote = rollout.GetProperty("analyses").EnumerateArray().Single(a => a.GetProperty("decision").GetString() == "promote");
        Assert.Contains("ms over 0.001 ms, but under 4 × the baseline's", promote.GetProperty("reason").GetString());
        Assert.True(promote.GetProperty("productionRequests").GetInt64() >= 20);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CpuHogCollection : ICollectionFixture<FeedbackFixture>
{
    public const string Name = "Feedback (CPU hog, alone)";
}
