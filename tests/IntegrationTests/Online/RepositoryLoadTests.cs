using System.Text.Json;
using Grpc.Core;
using MlPlatform.GrpcContracts;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Online;

/// <summary>
/// Triton's repository load/unload across two scorer replicas: a load pins a version on both (kept in the registry) until an unload
/// releases it; a version an alias routes to stays served; errors are V2 errors on REST and gRPC statuses with the same message.
/// </summary>
[Collection(ScorerReplicasCollection.Name)]
public sealed class RepositoryLoadTests(ScorerReplicasFixture platform)
{
    private static Metadata Operator => PlatformFixture.GrpcKey(PlatformFixture.OperatorApiKey);

    [Fact]
    public async Task LoadPinsAVersionOnBothReplicasAndUnloadReleasesItWhileProductionStaysServed()
    {
        using var admin = platform.CreateGatewayClient();
        var name = UniqueName("pin");
        var (v1, _) = await RegisterAsync(admin, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(admin, name, "linear-v2.onnx");
        await SetAliasAsync(admin, name, "production", v1);
        await EveryReplicaAsync(name, v1, "READY");
        await EveryReplicaAsync(name, v2, "UNAVAILABLE");
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);

        // As Triton: 200 with an empty body once this replica has loaded it.
        Assert.Equal((HttpStatusCode.OK, ""), await PostAsync(operatorClient, $"/v2/repository/models/{name}/load", """{"parameters":{"version":"2"}}"""));
        // A JSON number is taken as well as Triton's string; pinning production keeps it loaded even if the alias moves.
        Assert.Equal((HttpStatusCode.OK, ""), await PostAsync(operatorClient, $"/v2/repository/models/{name}/load", """{"parameters":{"version":1}}"""));

        await EveryReplicaAsync(name, v2, "READY");
        Assert.Equal([(1, "operator"), (2, "operator")], await PinsAsync(name));

        using var unload = await operatorClient.PostAsync($"/v2/repository/models/{name}/unload", null).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, unload.StatusCode);
        Assert.Empty(await PinsAsync(name));
        await EveryReplicaAsync(name, v2, "UNAVAILABLE");
        // Unlike Triton's unload, the version production routes to stays loaded and serves the bare name.
        await EveryReplicaAsync(name, v1, "READY");
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var (served, _) = await InferAsync(reader, $"/v2/models/{name}/infer", [LinearInput(1f)], binaryInputs: false);
        Assert.Equal("1", served.ModelVersion);
    }

    [Fact]
    public async Task GrpcLoadPinsTheLatestVersionByDefaultUnloadTakesAVersionAndErrorsMatchRest()
    {
        using var admin = platform.CreateGatewayClient();
        var name = UniqueName("pin-grpc");
        await RegisterAsync(admin, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(admin, name, "linear-v2.onnx");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(platform.CreateGatewayGrpcChannel());

        // No production alias: the latest version is loaded and pinned.
        await grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = name }, Operator).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal([(2, "operator")], await PinsAsync(name));
        await EveryReplicaAsync(name, v2, "READY");
        await EveryReplicaAsync(name, 1, "UNAVAILABLE");

        // A pinned version cannot be archived until it is unloaded.
        using var archive = await admin.DeleteAsync($"/v1/models/{name}/versions/{v2}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.Conflict, archive.StatusCode);
        Assert.Contains("pinned on the online scorers", await archive.Content.ReadAsStringAsync());

        var unknown = await Assert.ThrowsAsync<RpcException>(() => grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest
        {
            ModelName = name, Parameters = { ["version"] = new ModelRepositoryParameter { StringParam = "9" } },
        }, Operator).ResponseAsync);
        Assert.Equal((StatusCode.NotFound, $"Unknown version '9' of model '{name}'."), (unknown.StatusCode, unknown.Status.Detail));
        var malformed = await Assert.ThrowsAsync<RpcException>(() => grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest
        {
            ModelName = name, Parameters = { ["version"] = new ModelRepositoryParameter { StringParam = "two" } },
        }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var (status, body, response) = await PostJsonAsync(operatorClient, $"/v2/repository/models/{name}/load", """{"parameters":{"version":"two"}}""");
        response.Dispose();
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(malformed.Status.Detail, body.RootElement.GetProperty("error").GetString());
        var noModel = await Assert.ThrowsAsync<RpcException>(() => grpc.RepositoryModelUnloadAsync(
            new RepositoryModelUnloadRequest { ModelName = name + "-none" }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, noModel.StatusCode);

        await grpc.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest
        {
            ModelName = name, Parameters = { ["version"] = new ModelRepositoryParameter { Int64Param = v2 } },
        }, Operator).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Empty(await PinsAsync(name));
        await EveryReplicaAsync(name, v2, "UNAVAILABLE");
    }

    private static async Task<(HttpStatusCode, string)> PostAsync(HttpClient client, string path, string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(path, content).WaitAsync(PlatformFixture.RequestTimeout);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The pins the registry keeps, as a reader sees them through the gateway: (version, pinned by).</summary>
    private async Task<List<(int, string)>> PinsAsync(string name)
    {
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var (status, body) = await GetJsonAsync(reader, $"/v1/models/{name}/pins");
        Assert.Equal(HttpStatusCode.OK, status);
        return [.. body.RootElement.EnumerateArray().Select(p => (p.GetProperty("version").GetInt32(), p.GetProperty("pinnedBy").GetString()!))];
    }

    /// <summary>Waits until the repository index of each replica itself shows <paramref name="version"/> in <paramref name="state"/>.</summary>
    private async Task EveryReplicaAsync(string name, int version, string state)
    {
        foreach (var scorer in ScorerReplicasFixture.Scorers)
        {
            using var direct = platform.CreateScorerClient(scorer);
            await EventuallyAsync(async () =>
            {
                var (_, index, message) = await PostJsonAsync(direct, "/v2/repository/index", "{}");
                message.Dispose();
                return index.RootElement.EnumerateArray().Any(e => e.GetProperty("name").GetString() == name
                    && e.GetProperty("version").GetString() == version.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    && e.GetProperty("state").GetString() == state);
            }, $"{scorer} shows version {version} of {name} {state}");
        }
    }
}
