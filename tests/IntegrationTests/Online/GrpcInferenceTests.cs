using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using MlPlatform.GrpcContracts;
using MlPlatform.Inference.Tensors;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Online;

/// <summary>The Open Inference Protocol over gRPC through the gateway's gRPC port: every RPC, contents typed and raw, errors as gRPC codes.</summary>
[Collection(OnlineScorerCollection.Name)]
public sealed class GrpcInferenceTests(OnlineScorerFixture platform)
{
    private GRPCInferenceService.GRPCInferenceServiceClient Client() => new(platform.CreateGatewayGrpcChannel());

    private static Metadata Reader => PlatformFixture.GrpcKey(PlatformFixture.ReaderApiKey);

    private async Task<string> RegisterAsync(string file, string prefix)
    {
        using var http = platform.CreateGatewayClient();
        var name = UniqueName(prefix);
        var (version, _) = await OnlineScorerClient.RegisterAsync(http, name, file);
        await SetAliasAsync(http, name, "production", version);
        return name;
    }

    private static ModelInferRequest LinearRequest(string name, float seed, bool raw, string? id = null, string version = "")
    {
        var values = Enumerable.Range(0, 8).Select(i => seed + i * 0.25f).ToArray();
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 2, 4 } };
        var request = new ModelInferRequest { ModelName = name, ModelVersion = version, Id = id ?? "", Inputs = { input } };
        if (raw)
        {
            request.RawInputContents.Add(ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));
        }
        else
        {
            input.Contents = new InferTensorContents { Fp32Contents = { values } };
        }
        return request;
    }

    private static float[] Scores(ModelInferResponse response) => response.RawOutputContents.Count > 0
        ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(response.RawOutputContents[0].Span).ToArray()
        : [.. response.Outputs[0].Contents.Fp32Contents];

    [Fact]
    public async Task HealthAnswersWithoutAKeyAndServerMetadataNeedsOneAndListsTheExtensions()
    {
        var client = Client();

        Assert.True((await client.ServerLiveAsync(new ServerLiveRequest()).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout)).Live);
        Assert.True((await client.ServerReadyAsync(new ServerReadyRequest()).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout)).Ready);
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => client.ServerMetadataAsync(new ServerMetadataRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
        Assert.Contains("API key is required", anonymous.Status.Detail);

        var metadata = await client.ServerMetadataAsync(new ServerMetadataRequest(), Reader).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal("mlplatform-onlinescorer", metadata.Name);
        Assert.Contains("binary_tensor_data", metadata.Extensions);
        Assert.Contains("statistics", metadata.Extensions);
        Assert.Contains("model_repository", metadata.Extensions);
    }

    [Fact]
    public async Task ModelMetadataAndReadinessMatchRestAndAnUnknownModelIsNotFoundWithTheRestMessage()
    {
        var name = await RegisterAsync("linear-v1.onnx", "grpcmeta");
        var client = Client();
        using var http = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);

        var metadata = await client.ModelMetadataAsync(new ModelMetadataRequest { Name = name }, Reader).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);
        var (_, rest) = await GetJsonAsync(http, $"/v2/models/{name}");
        Assert.Equal(name, metadata.Name);
        Assert.Equal(["1"], metadata.Versions);
        Assert.Equal(rest.RootElement.GetProperty("platform").GetString(), metadata.Platform);
        var input = Assert.Single(metadata.Inputs);
        Assert.Equal(("input", "FP32"), (input.Name, input.Datatype));
        Assert.Equal([-1, 4], input.Shape);
        Assert.Equal(("scores", "FP32"), (metadata.Outputs[0].Name, metadata.Outputs[0].Datatype));
        // The production version loads once the alias event arrives; until then REST says 503 {"ready": false} and gRPC ready = false.
        await EventuallyAsync(async () => (await client.ModelReadyAsync(new ModelReadyRequest { Name = name }, Reader).ResponseAsync).Ready,
            "the production version is ready");
        Assert.True((await client.ModelReadyAsync(new ModelReadyRequest { Name = name, Version = "1" }, Reader).ResponseAsync).Ready);

        var missing = UniqueName("nosuch");
        var error = await Assert.ThrowsAsync<RpcException>(() => client.ModelMetadataAsync(new ModelMetadataRequest { Name = missing }, Reader).ResponseAsync);
        var (status, restError) = await GetJsonAsync(http, $"/v2/models/{missing}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal(restError.RootElement.GetProperty("error").GetString(), error.Status.Detail);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Fp32InferWithTypedOrRawContentsEqualsRestForTheSameRequest(bool raw)
    {
        var name = await RegisterAsync("linear-v1.onnx", "grpcfp32");
        using var http = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var input = TensorBuffer.FromValues<float>("input", TensorDataType.FP32, [2, 4], Enumerable.Range(0, 8).Select(i => 0.5f + i * 0.25f).ToArray());
        var (rest, message) = await InferAsync(http, $"/v2/models/{name}/infer", [input], binaryInputs: true, binaryOutputs: true);
        message.Dispose();

        var response = await Client().ModelInferAsync(LinearRequest(name, 0.5f, raw, id: "grpc-7"), Reader).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal((name, "1", "grpc-7"), (response.ModelName, response.ModelVersion, response.Id));
        var output = Assert.Single(response.Outputs);
        Assert.Equal(("scores", "FP32"), (output.Name, output.Datatype));
        Assert.Equal([2, 3], output.Shape);
        // Raw contents come back raw, typed contents typed, as the protocol lets the client choose.
        Assert.Equal(raw, response.RawOutputContents.Count == 1);
        Assert.Equal(rest.Outputs[0].AsSpan<float>().ToArray(), Scores(response));
    }

    [Fact]
    public async Task Int64BoolBytesAndFp16InputsSentRawAndTypedEqualRest()
    {
        var name = await RegisterAsync("types.onnx", "grpctypes");
        using var http = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var ints = TensorBuffer.FromValues<long>("ints", TensorDataType.Int64, [2, 3], [1, -2, 3, 4_000_000_000_000, 5, 6]);
        using var flags = TensorBuffer.FromValues<byte>("flags", TensorDataType.Bool, [2, 2], [1, 0, 0, 1]);
        using var text = TensorBuffer.FromStrings("text", [2, 1], ["héllo", "wörld \"quoted\""]);
        using var half = TensorBuffer.FromValues<Half>("half", TensorDataType.FP16, [2, 2], [(Half)1.5f, (Half)(-2f), (Half)0.25f, (Half)65504f]);
        var (rest, message) = await InferAsync(http, $"/v2/models/{name}/infer", [ints, flags, text, half], binaryInputs: true, binaryOutputs: true);
        message.Dispose();
        TensorBuffer[] inputs = [ints, flags, text, half];

        var raw = new ModelInferRequest { ModelName = name };
        foreach (var tensor in inputs)
        {
            raw.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = tensor.Name, Datatype = tensor.DataType.ToV2Name(), Shape = { tensor.Shape } });
            raw.RawInputContents.Add(ByteString.CopyFrom(tensor.Span));
        }
        var rawResponse = await Client().ModelInferAsync(raw, Reader).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(rest.Outputs.Select(o => o.Name), rawResponse.Outputs.Select(o => o.Name));
        for (var i = 0; i < rest.Outputs.Count; i++)
        {
            Assert.Equal(rest.Outputs[i].Span.ToArray(), rawResponse.RawOutputContents[i].ToByteArray());
            Assert.Equal(rest.Outputs[i].Shape, rawResponse.Outputs[i].Shape.ToArray());
        }

        // Typed contents are read for every datatype that has a field, through the same checks as REST (a missing input is named);
        // FP16 has no typed field, so a typed FP16 input is refused with a message that says how to send it.
        var typed = new ModelInferRequest { ModelName = name };
        typed.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "ints", Datatype = "INT64", Shape = { 2, 3 }, Contents = new() { Int64Contents = { ints.AsSpan<long>().ToArray() } } });
        typed.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "flags", Datatype = "BOOL", Shape = { 2, 2 }, Contents = new() { BoolContents = { true, false, false, true } } });
        typed.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "text", Datatype = "BYTES", Shape = { 2, 1 }, Contents = new() { BytesContents = { text.ToStrings().Select(ByteString.CopyFromUtf8) } } });
        var typedError = await Assert.ThrowsAsync<RpcException>(() => Client().ModelInferAsync(typed, Reader).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, typedError.StatusCode);
        Assert.Equal("Missing input 'half' (FP16 [-1,2]).", typedError.Status.Detail);
        typed.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "half", Datatype = "FP16", Shape = { 2, 2 }, Contents = new() });
        var fp16Typed = await Assert.ThrowsAsync<RpcException>(() => Client().ModelInferAsync(typed, Reader).ResponseAsync);
        Assert.Equal("Input 'half': FP16 has no typed contents; send it in raw_input_contents.", fp16Typed.Status.Detail);
    }

    [Fact]
    public async Task MalformedRequestsAreInvalidArgumentWithTheRestMessage()
    {
        var name = await RegisterAsync("linear-v1.onnx", "grpcbad");
        using var http = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var client = Client();
        (ModelInferRequest Grpc, string Json)[] cases =
        [
            (new ModelInferRequest { ModelName = name, Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 1, 3 }, Contents = new() { Fp32Contents = { 1, 2, 3 } } } } },
                """{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"""),
            (new ModelInferRequest { ModelName = name, Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "wrong", Datatype = "FP32", Shape = { 1, 4 }, Contents = new() { Fp32Contents = { 1, 2, 3, 4 } } } } },
                """{"inputs":[{"name":"wrong","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"""),
            (new ModelInferRequest { ModelName = name, Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "INT64", Shape = { 1, 4 }, Contents = new() { Int64Contents = { 1, 2, 3, 4 } } } } },
                """{"inputs":[{"name":"input","shape":[1,4],"datatype":"INT64","data":[1,2,3,4]}]}"""),
            (new ModelInferRequest { ModelName = name },
                """{"inputs":[]}"""),
            (new ModelInferRequest { ModelName = name, Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 1, 4 }, Contents = new() { Fp32Contents = { 1, 2, 3, 4 } } } }, Outputs = { new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "nope" } } },
                """{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"nope"}]}"""),
        ];

        foreach (var (grpc, json) in cases)
        {
            var (status, body, message) = await PostJsonAsync(http, $"/v2/models/{name}/infer", json);
            message.Dispose();
            Assert.Equal(HttpStatusCode.BadRequest, status);
            var error = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(grpc, Reader).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Equal(body.RootElement.GetProperty("error").GetString(), error.Status.Detail);
        }

        var shortRaw = LinearRequest(name, 1f, raw: true);
        shortRaw.RawInputContents[0] = ByteString.CopyFrom(new byte[12]);
        var rawError = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(shortRaw, Reader).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, rawError.StatusCode);
        Assert.Equal("Input 'input': raw_input_contents[0] is 12 but shape [2,4] of FP32 needs 32 bytes.", rawError.Status.Detail);
    }

    [Fact]
    public async Task EachOutcomeClassHasItsGrpcCodeAndCountsAsItDoesOverRest()
    {
        // linear-faulty passes validation (the linear models' signature) and fails in ONNX Runtime on every run: a server error.
        var name = await RegisterAsync("linear-faulty.onnx", "grpcfault");
        using var http = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var client = Client();

        var server = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(LinearRequest(name, 1f, raw: true), Reader).ResponseAsync);
        Assert.Equal(StatusCode.Internal, server.StatusCode);
        var (status, body, message) = await PostJsonAsync(http, $"/v2/models/{name}/infer",
            """{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}""");
        message.Dispose();
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.StartsWith("The model failed on a valid request: ", body.RootElement.GetProperty("error").GetString());
        Assert.StartsWith("The model failed on a valid request: ", server.Status.Detail);

        var wrong = LinearRequest(name, 1f, raw: false);
        wrong.Inputs[0].Name = "nope";
        var client400 = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(wrong, Reader).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, client400.StatusCode);
        (status, _, message) = await PostJsonAsync(http, $"/v2/models/{name}/infer", """{"inputs":[{"name":"nope","shape":[1],"datatype":"FP32","data":[1]}]}""");
        message.Dispose();
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(LinearRequest(name, 1f, raw: true, version: "99"), Reader).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

        // Both ports count the same classes: 2 server errors, 2 client errors (the unknown version served nothing, so it is not a
        // version's statistic); Triton's fail counts every failed request of the version, as Triton does.
        await EventuallyAsync(async () =>
        {
            var (_, stats) = await GetJsonAsync(http, $"/v1/models/{name}/versions/1/stats?window=5m");
            var (_, triton) = await GetJsonAsync(http, $"/v2/models/{name}/versions/1/stats");
            var r = stats.RootElement;
            var fail = triton.RootElement.GetProperty("model_stats")[0].GetProperty("inference_stats").GetProperty("fail").GetProperty("count").GetInt64();
            return (r.GetProperty("requests").GetInt64(), r.GetProperty("errors").GetInt64(), r.GetProperty("clientErrors").GetInt64(),
                r.GetProperty("rejected").GetInt64(), r.GetProperty("errorRate").GetDouble(), fail) == (4, 2, 2, 0, 1.0, 4);
        }, "2 server errors and 2 client errors in the fleet statistics, 4 failures in Triton's");
    }

    [Fact]
    public async Task VersionPinningAndAliasRoutingFollowTheRegistry()
    {
        using var http = platform.CreateGatewayClient();
        var name = UniqueName("grpcroute");
        var (v1, _) = await OnlineScorerClient.RegisterAsync(http, name, "linear-v1.onnx");
        var (v2, _) = await OnlineScorerClient.RegisterAsync(http, name, "linear-v2.onnx");
        await SetAliasAsync(http, name, "production", v1);
        var client = Client();

        var routed = await client.ModelInferAsync(LinearRequest(name, 1f, raw: true), Reader).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);
        var pinned = await client.ModelInferAsync(LinearRequest(name, 1f, raw: true, version: "2"), Reader).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(("1", "2"), (routed.ModelVersion, pinned.ModelVersion));
        Assert.NotEqual(Scores(routed), Scores(pinned));

        await SetAliasAsync(http, name, "production", v2);
        await EventuallyAsync(async () =>
            (await client.ModelInferAsync(LinearRequest(name, 1f, raw: true), Reader).ResponseAsync).ModelVersion == "2", "production routes to version 2");
        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(LinearRequest(name, 1f, raw: true, version: "9"), Reader).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task KeysAndRolesAreCheckedPerRpcAndRefusalsAreGrpcStatuses()
    {
        var name = await RegisterAsync("linear-v1.onnx", "grpcauth");
        var client = Client();

        var none = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(LinearRequest(name, 1f, raw: true)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        var wrong = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(LinearRequest(name, 1f, raw: true), PlatformFixture.GrpcKey("not-a-key")).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Equal("The API key is not valid.", wrong.Status.Detail);

        var load = await Assert.ThrowsAsync<RpcException>(() => client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = name }, Reader).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, load.StatusCode);
        Assert.Contains("'reader' is not allowed", load.Status.Detail);
        var unload = await Assert.ThrowsAsync<RpcException>(() => client.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = name }, Reader).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, unload.StatusCode);

        Assert.Equal("1", (await client.ModelInferAsync(LinearRequest(name, 1f, raw: true), Reader).ResponseAsync).ModelVersion);
    }

    [Fact]
    public async Task AClientDeadlineShorterThanTheModelIsDeadlineExceeded()
    {
        var name = await RegisterAsync("linear-slow.onnx", "grpcslow");
        var client = Client();

        var error = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(LinearRequest(name, 1f, raw: true), Reader,
            deadline: DateTime.UtcNow.AddMilliseconds(30)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        // The scorer is unharmed: the same call with time to spare answers.
        var answer = await client.ModelInferAsync(LinearRequest(name, 1f, raw: true), Reader, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync;
        Assert.Equal("1", answer.ModelVersion);
    }

    [Fact]
    public async Task AStreamOfAHundredRequestsKeepsOrderAndIdsAndReportsAnErrorInline()
    {
        var name = await RegisterAsync("linear-v1.onnx", "grpcstream");
        using var call = Client().ModelStreamInfer(Reader, deadline: DateTime.UtcNow.AddMinutes(2));

        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                var request = i == 50
                    ? new ModelInferRequest { ModelName = name, Id = "r50", Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 1, 3 }, Contents = new() { Fp32Contents = { 1, 2, 3 } } } } }
                    : LinearRequest(name, i, raw: i % 2 == 0, id: $"r{i}");
                await call.RequestStream.WriteAsync(request);
            }
            await call.RequestStream.CompleteAsync();
        });
        var responses = new List<ModelStreamInferResponse>();
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            responses.Add(response);
        }
        await sending;

        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"r{i}"), responses.Select(r => r.InferResponse.Id));
        Assert.Equal("Input 'input' has shape [1,3] but the model expects [-1,4] (-1 = any size).", responses[50].ErrorMessage);
        Assert.All(responses.Where((_, i) => i != 50), r => Assert.Equal(("", "1", 6), (r.ErrorMessage, r.InferResponse.ModelVersion, Scores(r.InferResponse).Length)));
    }

    [Fact]
    public async Task ALiveAliasSwapUnderGrpcLoadFailsNoRequest()
    {
        using var http = platform.CreateGatewayClient();
        var name = UniqueName("grpcswap");
        var (v1, _) = await OnlineScorerClient.RegisterAsync(http, name, "linear-v1.onnx");
        var (v2, _) = await OnlineScorerClient.RegisterAsync(http, name, "linear-v2.onnx");
        await SetAliasAsync(http, name, "production", v1);
        var client = Client();
        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();

        var load = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var count = 0;
            while (!stop.IsCancellationRequested)
            {
                var response = await client.ModelInferAsync(LinearRequest(name, worker, raw: worker % 2 == 0), Reader).ResponseAsync;
                seen.Add(response.ModelVersion);
                count++;
            }
            return count;
        })).ToArray();
        foreach (var version in new[] { v2, v1, v2 })
        {
            await Task.Delay(300);
            await SetAliasAsync(http, name, "production", version);
        }
        await EventuallyAsync(() => Task.FromResult(seen.Contains("2") && seen.Contains("1")), "both versions answered");
        await Task.Delay(300);
        await stop.CancelAsync();

        var counts = await Task.WhenAll(load).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.All(counts, c => Assert.True(c > 0));
        Assert.All(seen, v => Assert.Contains(v, new[] { "1", "2" }));
    }

    [Fact]
    public async Task ReflectionListsTheInferenceServiceWithoutAKey()
    {
        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(platform.CreateGatewayGrpcChannel());
        using var call = reflection.ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(30));

        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("inference.GRPCInferenceService", services);
    }
}
