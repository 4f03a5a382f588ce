using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using MlPlatform.Inference.Registry;
using MlPlatform.Inference.Tensors;
using StackExchange.Redis;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Online;

/// <summary>Serving behaviour through the gateway: dynamic batching, live swaps under load, canary weights, the response cache.</summary>
[Collection(OnlineScorerCollection.Name)]
public sealed class OnlineServingTests(OnlineScorerFixture platform)
{
    [Fact]
    public async Task ConcurrentBatchedRequestsGiveTheSameOutputsAsOneByOne()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("conv");
        var (version, _) = await RegisterAsync(client, name, "conv.onnx");
        await SetServingAsync(client, name, new { batching = new { enabled = true, maxBatchSize = 16, maxQueueDelayMs = 5.0 } });
        await SetAliasAsync(client, name, "production", version);
        var random = new Random(11);
        var images = Enumerable.Range(0, 24).Select(_ =>
        {
            var values = new float[3 * 32 * 32];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)random.NextDouble();
            }
            return TensorBuffer.FromValues<float>("image", TensorDataType.FP32, [1, 3, 32, 32], values);
        }).ToList();

        var oneByOne = new List<float[]>();
        foreach (var image in images)
        {
            var (response, message) = await InferAsync(client, $"/v2/models/{name}/infer", [image], binaryInputs: true, binaryOutputs: true);
            using (response)
            using (message)
            {
                oneByOne.Add(response["probabilities"].AsSpan<float>().ToArray());
            }
        }
        var concurrent = await Task.WhenAll(images.Select(async (image, i) =>
        {
            var (response, message) = await InferAsync(client, $"/v2/models/{name}/infer", [image], binaryInputs: i % 2 == 0, binaryOutputs: i % 3 == 0);
            using (response)
            using (message)
            {
                return response["probabilities"].AsSpan<float>().ToArray();
            }
        })).WaitAsync(PlatformFixture.RequestTimeout);

        for (var i = 0; i < images.Count; i++)
        {
            AssertClose(oneByOne[i], concurrent[i]);
            images[i].Dispose();
        }
    }

    [Fact]
    public async Task MovingTheAliasTwiceUnderLoadFailsNoRequestAndSwitchesTheServedVersion()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("swap");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetAliasAsync(client, name, "production", v1);
        using var input = LinearInput(1f);
        var failures = new ConcurrentQueue<string>();
        var served = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();

        async Task ClientLoop()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var (response, message) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false);
                    using (response)
                    using (message)
                    {
                        served.Enqueue(response.ModelVersion);
                    }
                }
                catch (Exception ex)
                {
                    failures.Enqueue(ex.Message);
                }
            }
        }

        var loops = Enumerable.Range(0, 4).Select(_ => Task.Run(ClientLoop)).ToArray();
        await EventuallyAsync(() => Task.FromResult(served.Count > 20), "the client loop is running");
        await SetAliasAsync(client, name, "production", v2);
        await EventuallyAsync(() => Task.FromResult(served.TakeLast(10).All(v => v == "2")), "responses come from version 2");
        await SetAliasAsync(client, name, "production", v1);
        await EventuallyAsync(() => Task.FromResult(served.TakeLast(10).All(v => v == "1")), "responses come from version 1 again");
        stop.Cancel();
        await Task.WhenAll(loops).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Empty(failures);
        var sequence = served.ToArray();
        var firstTwo = Array.IndexOf(sequence, "2");
        Assert.True(firstTwo > 0, "version 2 served after the first move");
        Assert.Contains("1", sequence[(Array.LastIndexOf(sequence, "2") + 1)..]);
    }

    [Fact]
    public async Task ACanaryTakesItsWeightedShareOfTheTraffic()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("canary");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetAliasAsync(client, name, "production", v1);
        await SetAliasAsync(client, name, "canary", v2, weight: 50);
        using var input = LinearInput(1f);

        var versions = new List<string>();
        await EventuallyAsync(async () =>
        {
            var (response, message) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: true);
            using (response)
            using (message)
            {
                versions.Add(response.ModelVersion);
            }
            return versions.Contains("1") && versions.Contains("2") && versions.Count >= 10;
        }, "both production and canary have served");

        Assert.All(versions, v => Assert.True(v is "1" or "2"));
    }

    [Fact]
    public async Task ARepeatedRequestIsAnsweredFromTheCacheWithItsOwnId()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("cached");
        var (version, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetServingAsync(client, name, new { responseCache = new { enabled = true } });
        await SetAliasAsync(client, name, "production", version);
        using var input = LinearInput(7f, rows: 2);

        var (first, firstMessage) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false, id: "first");
        // The same tensor sent as binary hashes to the same key: the cache is keyed by content, not encoding.
        var (second, secondMessage) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: true, id: "second");

        using (first)
        using (firstMessage)
        using (second)
        using (secondMessage)
        {
            Assert.Equal("miss", firstMessage.Headers.GetValues("X-Inference-Cache").Single());
            Assert.Equal("hit", secondMessage.Headers.GetValues("X-Inference-Cache").Single());
            Assert.Equal("first", first.Id);
            Assert.Equal("second", second.Id);
            Assert.Equal("1", second.ModelVersion);
            Assert.Equal(first["scores"].AsSpan<float>().ToArray(), second["scores"].AsSpan<float>().ToArray());
        }
    }

    [Fact]
    public async Task WithoutTheCacheSwitchedOnNoCacheHeaderIsSent()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("uncached");
        var (version, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", version);
        using var input = LinearInput(7f);

        var (response, message) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false);

        using (response)
        using (message)
        {
            Assert.False(message.Headers.Contains("X-Inference-Cache"));
        }
    }

    [Fact]
    public async Task ChangedServingSettingsArePublishedAndApplyToTheLoadedVersionWithoutARestart()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("live");
        var (version, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", version);
        using var input = LinearInput(7f);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(
            (await platform.App.GetConnectionStringAsync("redis").AsTask().WaitAsync(PlatformFixture.RequestTimeout))!);

        async Task<string?> CacheStatusAsync()
        {
            var (response, message) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false);
            using (response)
            using (message)
            {
                return message.Headers.TryGetValues("X-Inference-Cache", out var values) ? values.Single() : null;
            }
        }

        async Task<List<RegistryEvent>> EventsOfThisModelAsync()
        {
            var entries = await redis.GetDatabase().StreamRangeAsync(RegistryEvents.LogStream, "-", "+");
            return entries.Select(e => JsonSerializer.Deserialize<RegistryEvent>(e["event"].ToString())!)
                .Where(e => e.Type == RegistryEvents.ServingChanged && e.Model == name)
                .ToList();
        }

        Assert.Null(await CacheStatusAsync());

        var changed = Stopwatch.StartNew();
        await SetServingAsync(client, name, new { responseCache = new { enabled = true } });
        // The event is published before the PUT answers.
        var published = Assert.Single(await EventsOfThisModelAsync());
        Assert.NotNull(published.At);
        await EventuallyAsync(async () => await CacheStatusAsync() is not null, "the loaded version has the cache switched on");
        // Well within the 30 s periodic reconciliation of this fixture: the event did it.
        Assert.True(changed.Elapsed < TimeSpan.FromSeconds(15), $"the settings took {changed.Elapsed} to apply");
        Assert.Equal("hit", await CacheStatusAsync());

        // Putting the same settings again changes nothing and publishes nothing.
        await SetServingAsync(client, name, new { responseCache = new { enabled = true } });
        Assert.Single(await EventsOfThisModelAsync());

        await SetServingAsync(client, name, new { });
        Assert.Equal(2, (await EventsOfThisModelAsync()).Count);
        await EventuallyAsync(async () => await CacheStatusAsync() is null, "the loaded version has the cache switched off again");
    }

    [Fact]
    public async Task ChangedBatchingSettingsApplyToTheLoadedVersionWithoutARestart()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("delay");
        var (version, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", version);
        var seed = 0f;

        async Task<TimeSpan> TimeOneRequestAsync()
        {
            using var input = LinearInput(seed++);
            var started = Stopwatch.StartNew();
            var (response, message) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: true);
            response.Dispose();
            message.Dispose();
            return started.Elapsed;
        }

        await TimeOneRequestAsync();
        // A lone request now waits out the whole queue delay for others to batch with: no request can be faster than that.
        await SetServingAsync(client, name, new { batching = new { enabled = true, maxBatchSize = 64, maxQueueDelayMs = 1000.0 } });
        await EventuallyAsync(async () => await TimeOneRequestAsync() >= TimeSpan.FromMilliseconds(950), "requests wait for the new queue delay");

        await SetServingAsync(client, name, new { batching = new { enabled = false } });
        await EventuallyAsync(async () => await TimeOneRequestAsync() < TimeSpan.FromMilliseconds(500), "requests run at once without batching");
    }
}
