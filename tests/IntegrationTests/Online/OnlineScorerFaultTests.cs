using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using MlPlatform.Inference.Registry;
using StackExchange.Redis;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Online;

[Collection(OnlineScorerFaultCollection.Name)]
public sealed class OnlineScorerFaultTests(OnlineScorerFaultFixture platform)
{
    [Fact]
    public async Task AHashMismatchedArtifactIsRefusedReportedAndTheOldVersionKeepsServing()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("corrupt");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        // An artifact no other test in this fixture uses: blobs are content-addressed and shared.
        var (v2, sha2) = await RegisterAsync(client, name, "seqsum.onnx");
        await SetAliasAsync(client, name, "production", v1);
        using var input = LinearInput(1f);
        var (before, beforeMessage) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false);
        using (before)
        using (beforeMessage)
        {
            Assert.Equal("1", before.ModelVersion);
        }

        // Tamper with the registry's stored blob of version 2: the bytes the scorer downloads no longer hash to its sha256.
        var blob = Path.Combine(platform.DataDir, "registry", "blobs", "sha256", sha2[..2], sha2);
        Assert.True(File.Exists(blob), $"registry blob at {blob}");
        var bytes = await File.ReadAllBytesAsync(blob);
        bytes[^1] ^= 0xFF;
        File.SetAttributes(blob, FileAttributes.Normal);
        await File.WriteAllBytesAsync(blob, bytes);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(
            (await platform.App.GetConnectionStringAsync("redis").AsTask().WaitAsync(PlatformFixture.RequestTimeout))!);

        // seqsum has another signature than version 1: forced past the contract check, since what is tested is the refused download.
        await SetAliasAsync(client, name, "production", v2, force: true);

        RegistryEvent? failure = null;
        await EventuallyAsync(async () =>
        {
            var entries = await redis.GetDatabase().StreamRangeAsync(RegistryEvents.LogStream, "-", "+");
            failure = entries
                .Select(e => JsonSerializer.Deserialize<RegistryEvent>(e["event"].ToString()))
                .FirstOrDefault(e => e is { Type: RegistryEvents.LoadFailed } && e.Model == name);
            return failure is not null;
        }, "the scorer publishes load-failed");
        Assert.Equal(v2, failure!.Version);
        Assert.Equal(sha2, failure.Sha256);
        Assert.False(string.IsNullOrEmpty(failure.Reason));
        for (var i = 0; i < 5; i++)
        {
            var (after, afterMessage) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: true);
            using (after)
            using (afterMessage)
            {
                Assert.Equal("1", after.ModelVersion);
            }
        }
        var (ready, _) = await GetJsonAsync(client, "/v2/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready);
        var (modelReady, _) = await GetJsonAsync(client, $"/v2/models/{name}/ready");
        Assert.Equal(HttpStatusCode.OK, modelReady);
    }

    [Fact]
    public async Task PeriodicReconciliationAppliesServingSettingsWhoseEventWasMissed()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("settings");
        var (version, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", version);
        using var input = LinearInput(3f);
        var (before, beforeMessage) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false);
        using (before)
        using (beforeMessage)
        {
            Assert.False(beforeMessage.Headers.Contains("X-Inference-Cache"));
        }

        // Written straight into the registry's database: no serving-changed event is published, as when the scorer missed it.
        // The reconciliation every 2 s (this fixture's setting) must apply it all the same.
        await using (var database = new SqliteConnection($"Data Source={Path.Combine(platform.DataDir, "registry", "registry.db")};Pooling=false"))
        {
            await database.OpenAsync();
            await using var update = database.CreateCommand();
            update.CommandText = "UPDATE models SET serving_json = '{\"responseCache\":{\"enabled\":true}}' WHERE name = $name";
            update.Parameters.AddWithValue("$name", name);
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        await EventuallyAsync(async () =>
        {
            var (response, message) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false);
            using (response)
            using (message)
            {
                return message.Headers.TryGetValues("X-Inference-Cache", out var values) && values.Single() == "hit";
            }
        }, "the response cache is switched on and answers a repeat");
    }

    [Fact]
    public async Task ACorruptResponseCacheEntryIsAMissThatTheNextAnswerRepairs()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("cache");
        var (version, sha) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetServingAsync(client, name, new { responseCache = new { enabled = true } });
        await SetAliasAsync(client, name, "production", version);
        using var input = LinearInput(5f);
        // A value no other test sends, so the entry found below is this request's.
        input.Span[0] = 0x5A;
        // The response cache's own Redis.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(
            (await platform.App.GetConnectionStringAsync("redis-cache").AsTask().WaitAsync(PlatformFixture.RequestTimeout))!);
        var server = redis.GetServers().Single();

        async Task<(float[] Scores, string Cache)> InferCachedAsync()
        {
            var (response, message) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false);
            using (response)
            using (message)
            {
                return (response["scores"].AsSpan<float>().ToArray(), message.Headers.GetValues("X-Inference-Cache").Single());
            }
        }

        var (first, firstCache) = await InferCachedAsync();
        Assert.Equal("miss", firstCache);
        var keys = server.Keys(pattern: $"mlplatform:infer-cache:{sha}:*").ToList();
        var key = Assert.Single(keys);
        await redis.GetDatabase().StringSetAsync(key, "not a cache entry"u8.ToArray(), TimeSpan.FromMinutes(5));

        var (second, secondCache) = await InferCachedAsync();
        var (third, thirdCache) = await InferCachedAsync();

        Assert.Equal("miss", secondCache);
        Assert.Equal(first, second);
        Assert.Equal("hit", thirdCache);
        Assert.Equal(first, third);
    }

    [Fact]
    public async Task OnDemandVersionsBeyondTheCapEvictTheLeastRecentlyUsed()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("lru");
        await RegisterAsync(client, name, "linear-v1.onnx");
        await RegisterAsync(client, name, "linear-v2.onnx");
        var other = UniqueName("lru");
        await RegisterAsync(client, other, "linear-v2.onnx");
        using var input = LinearInput(1f);

        foreach (var path in new[] { $"/v2/models/{name}/versions/1/infer", $"/v2/models/{name}/versions/2/infer", $"/v2/models/{other}/versions/1/infer" })
        {
            var (response, message) = await InferAsync(client, path, [input], binaryInputs: false);
            response.Dispose();
            message.Dispose();
        }

        var (first, _) = await GetJsonAsync(client, $"/v2/models/{name}/versions/1/ready");
        var (second, _) = await GetJsonAsync(client, $"/v2/models/{name}/versions/2/ready");
        var (third, _) = await GetJsonAsync(client, $"/v2/models/{other}/versions/1/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first);
        Assert.Equal(HttpStatusCode.OK, second);
        Assert.Equal(HttpStatusCode.OK, third);

        // An evicted version is simply loaded again on its next request.
        var (again, againMessage) = await InferAsync(client, $"/v2/models/{name}/versions/1/infer", [input], binaryInputs: false);
        using (again)
        using (againMessage)
        {
            Assert.Equal("1", again.ModelVersion);
        }
    }

    [Fact]
    public async Task AFullBatchingQueueAnswersServiceUnavailableWithRetryAfter()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("queue");
        var (version, _) = await RegisterAsync(client, name, "conv.onnx");
        await SetServingAsync(client, name, new { batching = new { enabled = true, maxBatchSize = 1 }, instanceCount = 1 });
        await SetAliasAsync(client, name, "production", version);
        // 16 images per request keep the single instance busy long enough for the burst to overlap.
        using var images = MlPlatform.Inference.Tensors.TensorBuffer.FromValues<float>("image", MlPlatform.Contracts.TensorDataType.FP32,
            [16, 3, 32, 32], new float[16 * 3 * 32 * 32]);
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        var jsonLength = MlPlatform.Inference.Protocol.InferClientCodec.WriteRequest(writer, null, [images], binaryInputs: true);
        var requestBody = writer.WrittenSpan.ToArray();

        async Task<(HttpStatusCode Status, JsonDocument Body, HttpResponseMessage Response)> SendAsync()
        {
            using var content = new ByteArrayContent(requestBody);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            content.Headers.Add("Inference-Header-Content-Length", jsonLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var response = await client.PostAsync($"/v2/models/{name}/infer", content);
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()), response);
        }

        // One instance, one batch row, a queue of one (this fixture): a burst of 24 cannot all be held.
        var answers = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => SendAsync())).WaitAsync(PlatformFixture.RequestTimeout);

        try
        {
            Assert.Contains(answers, a => a.Status == HttpStatusCode.OK);
            var refused = answers.Where(a => a.Status == HttpStatusCode.ServiceUnavailable).ToList();
            Assert.NotEmpty(refused);
            Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"unexpected {a.Status}"));
            foreach (var (_, body, response) in refused)
            {
                Assert.Equal("The batching queue is full (1 requests waiting); retry later.", body.RootElement.GetProperty("error").GetString());
                Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            }
        }
        finally
        {
            foreach (var (_, body, response) in answers)
            {
                body.Dispose();
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task ABodyAboveTheLimitIsPayloadTooLargeWithAV2Error()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("limits");
        var (version, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", version);
        var padding = new string(' ', OnlineScorerFaultFixture.MaxRequestBodyBytes);
        var json = """{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""" + padding;

        var (status, body, message) = await PostJsonAsync(client, $"/v2/models/{name}/infer", json);

        using (message)
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
            Assert.Equal($"The request body has {Encoding.UTF8.GetByteCount(json)} bytes; the limit is {OnlineScorerFaultFixture.MaxRequestBodyBytes}.",
                body.RootElement.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task AnInputAboveTheElementLimitIsPayloadTooLargeNamingTheInput()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("limits");
        var (version, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", version);
        // The shape is checked against the limit before any data is read, so the data can stay empty.
        var json = """{"inputs":[{"name":"input","shape":[100000,4],"datatype":"FP32","data":[]}]}""";

        var (status, body, message) = await PostJsonAsync(client, $"/v2/models/{name}/infer", json);

        using (message)
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
            Assert.Equal($"Input 'input': shape [100000,4] has 400000 elements; the limit is {OnlineScorerFaultFixture.MaxElementsPerInput} per input.",
                body.RootElement.GetProperty("error").GetString());
        }
    }
}
