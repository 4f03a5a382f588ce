using Google.Protobuf;
using Grpc.Core;
using MlPlatform.GrpcContracts;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Gateway;

/// <summary>
/// <c>ModelStreamInfer</c> through the gateway is held to the unary limits per message: a message larger than an inference body, or one
/// past the key's request rate, is not forwarded; the messages before it are answered and the call ends with RESOURCE_EXHAUSTED.
/// </summary>
[Collection(GatewayLimitsCollection.Name)]
public sealed class GrpcStreamLimitsTests(GatewayLimitsFixture platform)
{
    [Fact]
    public async Task AStreamMessageOverTheInferenceLimitEndsTheStreamWithResourceExhaustedAfterAnsweringTheOnesBefore()
    {
        var name = await RegisterReadyModelAsync("stream-size");
        using var call = Client().ModelStreamInfer(PlatformFixture.GrpcKey(PlatformFixture.AdminApiKey), deadline: DateTime.UtcNow.AddMinutes(2));

        await call.RequestStream.WriteAsync(Linear(name, "small", rows: 2));
        Assert.True(await call.ResponseStream.MoveNext().WaitAsync(PlatformFixture.RequestTimeout));
        Assert.Equal(("small", ""), (call.ResponseStream.Current.InferResponse.Id, call.ResponseStream.Current.ErrorMessage));
        var large = Linear(name, "large", rows: 512);
        Assert.True(large.CalculateSize() > GatewayLimitsFixture.InferenceBodyLimit);
        await call.RequestStream.WriteAsync(large);

        var ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext().WaitAsync(PlatformFixture.RequestTimeout));
        Assert.Equal(StatusCode.ResourceExhausted, ended.StatusCode);
        Assert.Equal($"A stream message of {large.CalculateSize()} bytes exceeds the limit of {GatewayLimitsFixture.InferenceBodyLimit} bytes per message ('inference'); the stream ends here.",
            ended.Status.Detail);
    }

    [Fact]
    public async Task EveryStreamMessageTakesATokenOfTheKeysRateAndTheFirstOnePastItEndsTheStream()
    {
        var name = await RegisterReadyModelAsync("stream-rate");
        using var call = Client().ModelStreamInfer(PlatformFixture.GrpcKey(PlatformFixture.OperatorApiKey), deadline: DateTime.UtcNow.AddMinutes(2));
        var answered = new List<string>();
        RpcException? ended = null;

        // The call itself takes one token, as a unary call does; each message one more.
        for (var i = 0; i < GatewayLimitsFixture.OperatorBurst + 2 && ended is null; i++)
        {
            try
            {
                await call.RequestStream.WriteAsync(Linear(name, $"m{i}", rows: 1));
                if (await call.ResponseStream.MoveNext().WaitAsync(PlatformFixture.RequestTimeout))
                {
                    answered.Add(call.ResponseStream.Current.InferResponse.Id);
                }
            }
            catch (RpcException ex)
            {
                ended = ex;
            }
        }

        Assert.Equal(Enumerable.Range(0, GatewayLimitsFixture.OperatorBurst - 1).Select(i => $"m{i}"), answered);
        Assert.NotNull(ended);
        Assert.Equal(StatusCode.ResourceExhausted, ended.StatusCode);
        Assert.StartsWith("This API key has used up its request rate (each stream message counts as a request); retry after", ended.Status.Detail);
    }

    private GRPCInferenceService.GRPCInferenceServiceClient Client() => new(platform.CreateGatewayGrpcChannel());

    private async Task<string> RegisterReadyModelAsync(string prefix)
    {
        using var admin = platform.CreateGatewayClient(PlatformFixture.AdminApiKey);
        var name = UniqueName(prefix);
        var (version, _) = await RegisterAsync(admin, name, "linear-v1.onnx");
        await SetAliasAsync(admin, name, "production", version);
        await EventuallyAsync(async () =>
        {
            using var ready = await admin.GetAsync($"/v2/models/{name}/ready");
            return ready.StatusCode == HttpStatusCode.OK;
        }, $"{name} is ready");
        return name;
    }

    private static ModelInferRequest Linear(string name, string id, int rows)
    {
        var values = Enumerable.Range(0, rows * 4).Select(i => i * 0.25f).ToArray();
        return new ModelInferRequest
        {
            ModelName = name,
            Id = id,
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { rows, 4 } } },
            RawInputContents = { ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) },
        };
    }
}
