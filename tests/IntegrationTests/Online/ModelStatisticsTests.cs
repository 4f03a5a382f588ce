using System.Text.Json;
using Google.Protobuf;
using MlPlatform.GrpcContracts;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Online;

/// <summary>Triton's statistics extension: cumulative per-version counts summed over both scorer replicas, on REST and gRPC.</summary>
[Collection(ScorerReplicasCollection.Name)]
public sealed class ModelStatisticsTests(ScorerReplicasFixture platform)
{
    [Fact]
    public async Task StatisticsAddUpOverBothReplicasAndReadTheSameOnRestAndGrpc()
    {
        using var admin = platform.CreateGatewayClient();
        var name = UniqueName("stats");
        var (version, _) = await RegisterAsync(admin, name, "linear-v1.onnx");
        await SetAliasAsync(admin, name, "production", version);

        // 6 requests of 2 rows on each replica directly, 4 of 1 row through the gateway's REST and gRPC ports, 3 failures.
        foreach (var scorer in ScorerReplicasFixture.Scorers)
        {
            using var direct = platform.CreateScorerClient(scorer);
            for (var i = 0; i < 6; i++)
            {
                using var input = LinearInput(i, rows: 2);
                var (response, message) = await InferAsync(direct, $"/v2/models/{name}/infer", [input], binaryInputs: i % 2 == 0);
                using (response)
                using (message)
                {
                    Assert.Equal("1", response.ModelVersion);
                }
            }
        }
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(platform.CreateGatewayGrpcChannel());
        for (var i = 0; i < 2; i++)
        {
            using var input = LinearInput(i);
            var (response, message) = await InferAsync(reader, $"/v2/models/{name}/infer", [input], binaryInputs: false);
            response.Dispose();
            message.Dispose();
            var request = new ModelInferRequest { ModelName = name, Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 1, 4 } } } };
            request.RawInputContents.Add(ByteString.CopyFrom(input.Span));
            await grpc.ModelInferAsync(request, PlatformFixture.GrpcKey(PlatformFixture.ReaderApiKey)).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);
        }
        for (var i = 0; i < 3; i++)
        {
            var (status, _, message) = await PostJsonAsync(reader, $"/v2/models/{name}/infer", """{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}""");
            message.Dispose();
            Assert.Equal(HttpStatusCode.BadRequest, status);
        }

        // Replicas add their counts to Redis every flush interval: wait until all 19 answers are in.
        JsonElement stats = default;
        await EventuallyAsync(async () =>
        {
            var (status, body) = await GetJsonAsync(reader, $"/v2/models/{name}/versions/1/stats");
            Assert.Equal(HttpStatusCode.OK, status);
            stats = Assert.Single(body.RootElement.GetProperty("model_stats").EnumerateArray()).Clone();
            var inference = stats.GetProperty("inference_stats");
            return inference.GetProperty("success").GetProperty("count").GetInt64() == 16 && inference.GetProperty("fail").GetProperty("count").GetInt64() == 3;
        }, "the statistics count every request of both replicas");

        Assert.Equal((name, "1"), (stats.GetProperty("name").GetString(), stats.GetProperty("version").GetString()));
        Assert.Equal(2 * 6 * 2 + 4, stats.GetProperty("inference_count").GetInt64());
        var executions = stats.GetProperty("execution_count").GetInt64();
        Assert.InRange(executions, 1, 16);
        var lastInference = DateTimeOffset.FromUnixTimeMilliseconds(stats.GetProperty("last_inference").GetInt64());
        Assert.InRange(lastInference, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        var s = stats.GetProperty("inference_stats");
        foreach (var part in new[] { "success", "compute_input", "compute_infer", "compute_output", "queue" })
        {
            Assert.Equal(16, s.GetProperty(part).GetProperty("count").GetInt64());
            Assert.True(s.GetProperty(part).GetProperty("ns").GetInt64() >= 0, part);
        }
        Assert.True(s.GetProperty("success").GetProperty("ns").GetInt64() > s.GetProperty("compute_infer").GetProperty("ns").GetInt64());
        Assert.True(s.GetProperty("fail").GetProperty("ns").GetInt64() > 0);

        var all = await GetJsonAsync(reader, "/v2/models/stats");
        Assert.Contains(all.Body.RootElement.GetProperty("model_stats").EnumerateArray(), e => e.GetProperty("name").GetString() == name);
        var model = await GetJsonAsync(reader, $"/v2/models/{name}/stats");
        Assert.Equal(stats.GetProperty("inference_count").GetInt64(), Assert.Single(model.Body.RootElement.GetProperty("model_stats").EnumerateArray()).GetProperty("inference_count").GetInt64());

        var overGrpc = await grpc.ModelStatisticsAsync(new ModelStatisticsRequest { Name = name, Version = "1" }, PlatformFixture.GrpcKey(PlatformFixture.ReaderApiKey))
            .ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);
        var g = Assert.Single(overGrpc.ModelStats);
        Assert.Equal((ulong)stats.GetProperty("inference_count").GetInt64(), g.InferenceCount);
        Assert.True(g.InferenceStats.Success.Count >= 16);
        Assert.Equal(3UL, g.InferenceStats.Fail.Count);
    }

    [Fact]
    public async Task CacheHitsCountInQueueAndCacheHitButNotInInferenceCountAsInTriton()
    {
        using var admin = platform.CreateGatewayClient();
        var name = UniqueName("stats-cache");
        var (version, _) = await RegisterAsync(admin, name, "linear-v1.onnx");
        await SetServingAsync(admin, name, new { responseCache = new { enabled = true } });
        await SetAliasAsync(admin, name, "production", version);
        using var input = LinearInput(3f, rows: 2);
        var cache = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (response, message) = await InferAsync(admin, $"/v2/models/{name}/infer", [input], binaryInputs: false);
            using (response)
            using (message)
            {
                cache.Add(message.Headers.GetValues("X-Inference-Cache").Single());
            }
        }
        Assert.Equal(["miss", "hit", "hit"], cache);

        JsonElement stats = default;
        await EventuallyAsync(async () =>
        {
            var (status, body) = await GetJsonAsync(admin, $"/v2/models/{name}/versions/1/stats");
            Assert.Equal(HttpStatusCode.OK, status);
            stats = Assert.Single(body.RootElement.GetProperty("model_stats").EnumerateArray()).Clone();
            return stats.GetProperty("inference_stats").GetProperty("success").GetProperty("count").GetInt64() == 3;
        }, "the three answers are counted");

        // Triton: "inference_count does not include cache hits"; the queue count does include them.
        var s = stats.GetProperty("inference_stats");
        Assert.Equal(2, stats.GetProperty("inference_count").GetInt64());
        Assert.Equal(3, s.GetProperty("queue").GetProperty("count").GetInt64());
        Assert.Equal(2, s.GetProperty("cache_hit").GetProperty("count").GetInt64());
        Assert.Equal(1, s.GetProperty("cache_miss").GetProperty("count").GetInt64());
        Assert.Equal(1, s.GetProperty("compute_infer").GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task StatisticsOfAnUnknownModelOrVersionAreNotFoundAndStatsIsNoModelName()
    {
        using var admin = platform.CreateGatewayClient();
        var missing = UniqueName("nosuch");
        var (status, body) = await GetJsonAsync(admin, $"/v2/models/{missing}/stats");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains(missing, body.RootElement.GetProperty("error").GetString());

        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(ModelPath("linear-v1.onnx")));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        using var response = await admin.PostAsync("/v1/models/stats/versions", content).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'stats' is reserved", await response.Content.ReadAsStringAsync());
    }
}
