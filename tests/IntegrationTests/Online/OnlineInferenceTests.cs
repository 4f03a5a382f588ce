using System.Text.Json;
using MlPlatform.Inference.Tensors;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Online;

/// <summary>The Open Inference Protocol endpoints through the gateway: success and error bodies.</summary>
[Collection(OnlineScorerCollection.Name)]
public sealed class OnlineInferenceTests(OnlineScorerFixture platform)
{
    private async Task<string> RegisterLinearAsync(HttpClient client)
    {
        var name = UniqueName("linear");
        var (version, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", version);
        return name;
    }

    [Fact]
    public async Task ServerMetadataAdvertisesTheBinaryTensorExtension()
    {
        using var client = platform.CreateGatewayClient();

        var (status, body) = await GetJsonAsync(client, "/v2");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("mlplatform-onlinescorer", body.RootElement.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("version").GetString()));
        Assert.Contains("binary_tensor_data", body.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task JsonInferReturnsTheProductionVersionAsAStringAndOutputsEqualToInProcessOnnxRuntime()
    {
        using var client = platform.CreateGatewayClient();
        var name = await RegisterLinearAsync(client);
        using var local = LoadLocally("linear-v1.onnx");
        using var input = LinearInput(0.5f, rows: 2);
        var expected = local.Run([input], local.OutputNames);

        var (status, body, message) = await PostJsonAsync(client, $"/v2/models/{name}/infer",
            """{"id":"req-42","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[0.5,0.75,1.0,1.25],[1.5,1.75,2.0,2.25]]}]}""");
        using (message)
        {
            Assert.Equal(HttpStatusCode.OK, status);
            var root = body.RootElement;
            Assert.Equal(name, root.GetProperty("model_name").GetString());
            Assert.Equal(JsonValueKind.String, root.GetProperty("model_version").ValueKind);
            Assert.Equal("1", root.GetProperty("model_version").GetString());
            Assert.Equal("req-42", root.GetProperty("id").GetString());
            var output = root.GetProperty("outputs")[0];
            Assert.Equal("scores", output.GetProperty("name").GetString());
            Assert.Equal("FP32", output.GetProperty("datatype").GetString());
            Assert.Equal([2, 3], output.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
            AssertClose(expected[0].AsSpan<float>(), output.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray());
        }
        expected[0].Dispose();
    }

    [Fact]
    public async Task BinaryTensorsInAndOutGiveTheSameOutputsAsJson()
    {
        using var client = platform.CreateGatewayClient();
        var name = await RegisterLinearAsync(client);
        using var input = LinearInput(-3f, rows: 3);

        var (json, _) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false);
        var (binary, message) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: true, binaryOutputs: true);

        using (json)
        using (binary)
        using (message)
        {
            Assert.Equal("application/octet-stream", message.Content.Headers.ContentType?.MediaType);
            Assert.True(message.Headers.Contains("Inference-Header-Content-Length") || message.Content.Headers.Contains("Inference-Header-Content-Length"));
            Assert.Equal(json["scores"].AsSpan<float>().ToArray(), binary["scores"].AsSpan<float>().ToArray());
        }
    }

    [Fact]
    public async Task Int64BoolBytesAndFp16TensorsRoundTripInJsonAndBinary()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("types");
        var (version, _) = await RegisterAsync(client, name, "types.onnx");
        using var ints = TensorBuffer.FromValues<long>("ints", TensorDataType.Int64, [2, 3], [1, -2, 3, 4_000_000_000_000, 5, 6]);
        using var flags = TensorBuffer.FromValues<byte>("flags", TensorDataType.Bool, [2, 2], [1, 0, 0, 1]);
        using var text = TensorBuffer.FromStrings("text", [2, 1], ["héllo", "wörld \"quoted\""]);
        using var half = TensorBuffer.FromValues<Half>("half", TensorDataType.FP16, [2, 2], [(Half)0.5, (Half)(-1.25), (Half)1024, (Half)0]);

        foreach (var binary in new[] { false, true })
        {
            var (response, message) = await InferAsync(client, $"/v2/models/{name}/versions/{version}/infer",
                [ints, flags, text, half], binaryInputs: binary, binaryOutputs: binary);
            using (response)
            using (message)
            {
                Assert.Equal([2L, -4, 6, 8_000_000_000_000, 10, 12], response["ints_doubled"].AsSpan<long>().ToArray());
                Assert.Equal([(byte)0, 1, 1, 0], response["flags_negated"].Span.ToArray());
                Assert.Equal(["héllo", "wörld \"quoted\""], response["text_echo"].ToStrings());
                Assert.Equal(half.AsSpan<Half>().ToArray(), response["half_echo"].AsSpan<Half>().ToArray());
            }
        }
    }

    [Fact]
    public async Task RequestedOutputsAreTheOnlyOnesReturnedAndMayMixJsonAndBinary()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("types");
        var (version, _) = await RegisterAsync(client, name, "types.onnx");
        var header = """{"inputs":[{"name":"ints","shape":[1,3],"datatype":"INT64","data":[1,2,3]},{"name":"flags","shape":[1,2],"datatype":"BOOL","data":[true,true]},{"name":"text","shape":[1,1],"datatype":"BYTES","data":["x"]},{"name":"half","shape":[1,2],"datatype":"FP16","data":[1,2]}],"outputs":[{"name":"ints_doubled","parameters":{"binary_data":true}},{"name":"text_echo"}]}""";

        using var content = new StringContent(header, System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"/v2/models/{name}/versions/{version}/infer", content).WaitAsync(PlatformFixture.RequestTimeout);
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var jsonLength = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(jsonLength + 24, bytes.Length);
        using var body = JsonDocument.Parse(bytes.AsMemory(0, jsonLength));
        var outputs = body.RootElement.GetProperty("outputs");
        Assert.Equal(2, outputs.GetArrayLength());
        Assert.Equal("ints_doubled", outputs[0].GetProperty("name").GetString());
        Assert.Equal(24, outputs[0].GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.False(outputs[0].TryGetProperty("data", out _));
        Assert.Equal(["x"], outputs[1].GetProperty("data").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([2L, 4, 6], System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes.AsSpan(jsonLength)).ToArray());
    }

    [Fact]
    public async Task ModelMetadataListsVersionsAsStringsAndTheSignature()
    {
        using var client = platform.CreateGatewayClient();
        var name = await RegisterLinearAsync(client);
        await RegisterAsync(client, name, "linear-v2.onnx");

        var (status, body) = await GetJsonAsync(client, $"/v2/models/{name}");
        var (versionStatus, versionBody) = await GetJsonAsync(client, $"/v2/models/{name}/versions/2");

        Assert.Equal(HttpStatusCode.OK, status);
        var root = body.RootElement;
        Assert.Equal(name, root.GetProperty("name").GetString());
        Assert.Equal("onnx_onnxv1", root.GetProperty("platform").GetString());
        Assert.Equal(["1", "2"], root.GetProperty("versions").EnumerateArray().Select(e => e.GetString()));
        var input = root.GetProperty("inputs")[0];
        Assert.Equal("input", input.GetProperty("name").GetString());
        Assert.Equal("FP32", input.GetProperty("datatype").GetString());
        Assert.Equal([-1, 4], input.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("scores", root.GetProperty("outputs")[0].GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.OK, versionStatus);
        Assert.Equal(["2"], versionBody.RootElement.GetProperty("versions").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task ModelReadinessIsReportedPerModelAndPerVersion()
    {
        using var client = platform.CreateGatewayClient();
        var name = await RegisterLinearAsync(client);
        await RegisterAsync(client, name, "linear-v2.onnx");
        // Readiness follows the alias event and the load: 503 until production's version is loaded (seen once in a full run at load).
        await EventuallyAsync(async () => (await GetJsonAsync(client, $"/v2/models/{name}/ready")).Status == HttpStatusCode.OK,
            $"{name} is ready");

        var (ready, readyBody) = await GetJsonAsync(client, $"/v2/models/{name}/ready");
        var (v1, _) = await GetJsonAsync(client, $"/v2/models/{name}/versions/1/ready");
        var (v2, v2Body) = await GetJsonAsync(client, $"/v2/models/{name}/versions/2/ready");
        var (unknown, unknownBody) = await GetJsonAsync(client, "/v2/models/no-such-model/ready");

        Assert.Equal(HttpStatusCode.OK, ready);
        Assert.True(readyBody.RootElement.GetProperty("ready").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, v1);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, v2);
        Assert.False(v2Body.RootElement.GetProperty("ready").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Equal("Unknown model 'no-such-model'.", unknownBody.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AVersionIsLoadedOnDemandAndServesItsOwnOutputs()
    {
        using var client = platform.CreateGatewayClient();
        var name = await RegisterLinearAsync(client);
        await RegisterAsync(client, name, "linear-v2.onnx");
        using var local = LoadLocally("linear-v2.onnx");
        using var input = LinearInput(2f);
        var expected = local.Run([input], local.OutputNames);

        var (response, message) = await InferAsync(client, $"/v2/models/{name}/versions/2/infer", [input], binaryInputs: true);

        using (response)
        using (message)
        {
            Assert.Equal("2", response.ModelVersion);
            AssertClose(expected[0].AsSpan<float>(), response["scores"].AsSpan<float>());
        }
        var (ready, _) = await GetJsonAsync(client, $"/v2/models/{name}/versions/2/ready");
        Assert.Equal(HttpStatusCode.OK, ready);
        expected[0].Dispose();
    }

    [Theory]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}""", "Input 'input' has shape [1,3] but the model expects [-1,4] (-1 = any size).")]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3]}]}""", "Input 'input': shape [1,4] needs 4 elements but 'data' has 3.")]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"INT32","data":[1,2,3,4]}]}""", "Input 'input' has datatype INT32 but the model expects FP32.")]
    [InlineData("""{"inputs":[{"name":"pixels","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""", "Unknown input 'pixels'; the model expects: input (FP32 [-1,4]).")]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,"three",4]}]}""", "Input 'input': element 2 is not a valid FP32 value.")]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"logits"}]}""", "Unknown output 'logits'; the model has outputs: scores.")]
    public async Task InvalidInputIsABadRequestNamingTheInputAndTheExpectation(string json, string error)
    {
        using var client = platform.CreateGatewayClient();
        var name = await RegisterLinearAsync(client);

        var (status, body, message) = await PostJsonAsync(client, $"/v2/models/{name}/infer", json);

        using (message)
        {
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(error, body.RootElement.GetProperty("error").GetString());
            // Readable on the wire too: the quotes around names are sent as they are, not as \u0027.
            Assert.Contains(error, await message.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task MalformedJsonIsABadRequestAndTheModelKeepsServing()
    {
        using var client = platform.CreateGatewayClient();
        var name = await RegisterLinearAsync(client);

        var (status, body, message) = await PostJsonAsync(client, $"/v2/models/{name}/infer", """{"inputs":[{"name":"input","shape":[1,4],""");
        using var input = LinearInput(1f);
        var (after, afterMessage) = await InferAsync(client, $"/v2/models/{name}/infer", [input], binaryInputs: false);

        using (message)
        using (after)
        using (afterMessage)
        {
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.StartsWith("Malformed JSON", body.RootElement.GetProperty("error").GetString());
            Assert.Equal("1", after.ModelVersion);
        }
    }

    [Fact]
    public async Task UnknownModelAndUnknownVersionAreNotFoundWithAV2ErrorBody()
    {
        using var client = platform.CreateGatewayClient();
        var name = await RegisterLinearAsync(client);
        const string json = """{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""";

        var (modelStatus, modelBody, m1) = await PostJsonAsync(client, "/v2/models/nobody-registered-this/infer", json);
        var (versionStatus, versionBody, m2) = await PostJsonAsync(client, $"/v2/models/{name}/versions/9/infer", json);
        var (metadataStatus, metadataBody) = await GetJsonAsync(client, $"/v2/models/{name}/versions/9");

        using (m1)
        using (m2)
        {
            Assert.Equal(HttpStatusCode.NotFound, modelStatus);
            Assert.Equal("Unknown model 'nobody-registered-this'.", modelBody.RootElement.GetProperty("error").GetString());
            Assert.Equal(HttpStatusCode.NotFound, versionStatus);
            Assert.Equal($"Unknown version '9' of model '{name}'.", versionBody.RootElement.GetProperty("error").GetString());
            Assert.Equal(HttpStatusCode.NotFound, metadataStatus);
            Assert.Equal($"Unknown version '9' of model '{name}'.", metadataBody.RootElement.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task ABodyTheScorerCannotBindOrARouteItDoesNotHaveIsAV2ErrorWithoutInternals()
    {
        // ./platform start runs the services as Development: an unbound body used to reach ASP.NET Core's developer exception page,
        // which the gateway passed on to the reader with a stack trace and the request's headers, the gateway's internal key among them.
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        foreach (var body in new[] { """{"ready":""", """{"ready":"yes"}""", "[]" })
        {
            using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            using var response = await reader.PostAsync("/v2/repository/index", content).WaitAsync(PlatformFixture.RequestTimeout);
            var text = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.StartsWith("The request body is not valid JSON for this endpoint", JsonDocument.Parse(text).RootElement.GetProperty("error").GetString());
            Assert.DoesNotContain("Internal-Key", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        }
        var (status, missing) = await GetJsonAsync(reader, "/v2/no-such-route");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("No such route: GET /v2/no-such-route.", missing.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task UndecodableStringsAndImpossibleModelNamesAreTheClientsMistakes()
    {
        using var admin = platform.CreateGatewayClient();
        var name = await RegisterLinearAsync(admin);
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);

        // Invalid UTF-8 in the input's name, and a lone surrogate escape: 400 malformed JSON (was 500, counted as the model's fault).
        byte[] invalidUtf8 = [.. "{\"inputs\":[{\"name\":\""u8, 0xFF, 0xFE, .. "\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}"u8];
        using var bytes = new ByteArrayContent(invalidUtf8);
        bytes.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var utf8 = await reader.PostAsync($"/v2/models/{name}/infer", bytes).WaitAsync(PlatformFixture.RequestTimeout);
        var (surrogate, surrogateBody, surrogateMessage) = await PostJsonAsync(reader, $"/v2/models/{name}/infer",
            """{"inputs":[{"name":"input\ud800","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""");
        // A name the registry could never have given (upper case): unknown model, 404, not "cannot be looked up right now; retry".
        var (upper, upperBody, upperMessage) = await PostJsonAsync(reader, "/v2/models/Not-A-Model-Name/infer",
            """{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""");
        using var stats = await admin.GetAsync($"/v1/models/{name}/versions/1/stats").WaitAsync(PlatformFixture.RequestTimeout);
        var counts = JsonDocument.Parse(await stats.Content.ReadAsStringAsync()).RootElement;

        using (surrogateMessage)
        using (upperMessage)
        {
            Assert.Equal(HttpStatusCode.BadRequest, utf8.StatusCode);
            Assert.StartsWith("Malformed JSON", JsonDocument.Parse(await utf8.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
            Assert.Equal(HttpStatusCode.BadRequest, surrogate);
            Assert.StartsWith("Malformed JSON", surrogateBody.RootElement.GetProperty("error").GetString());
            Assert.Equal(HttpStatusCode.NotFound, upper);
            Assert.StartsWith("Unknown model 'Not-A-Model-Name'.", upperBody.RootElement.GetProperty("error").GetString());
            Assert.False(upperMessage.Headers.Contains("Retry-After"));
            Assert.Equal(0, counts.GetProperty("errors").GetInt64());
        }
    }

    [Fact]
    public async Task AModelWithoutAProductionAliasIsNotFoundByNameButServesByVersion()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("noalias");
        await RegisterAsync(client, name, "linear-v1.onnx");
        using var input = LinearInput(0f);

        var (status, body, message) = await PostJsonAsync(client, $"/v2/models/{name}/infer",
            """{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""");
        var (byVersion, versionMessage) = await InferAsync(client, $"/v2/models/{name}/versions/1/infer", [input], binaryInputs: false);

        using (message)
        using (byVersion)
        using (versionMessage)
        {
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Equal($"Model '{name}' has no 'production' alias; ask for a version with /v2/models/{name}/versions/{{version}}.",
                body.RootElement.GetProperty("error").GetString());
            Assert.Equal("1", byVersion.ModelVersion);
        }
    }

    [Fact]
    public async Task BinaryDataSizeBeyondTheBodyIsABadRequest()
    {
        using var client = platform.CreateGatewayClient();
        var name = await RegisterLinearAsync(client);
        var header = """{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}"""u8.ToArray();
        using var content = new ByteArrayContent([.. header, .. new byte[8]]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var response = await client.PostAsync($"/v2/models/{name}/infer", content).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Input 'input': binary_data_size is 16 but only 8 binary bytes remain.", body.RootElement.GetProperty("error").GetString());
    }
}
