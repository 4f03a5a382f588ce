using System.Text;
using System.Text.Json;
using Grpc.Core;
using MlPlatform.GrpcContracts;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Online;

/// <summary>Triton's repository index on REST and gRPC across two replicas, and the operator role the repository's writes demand.</summary>
[Collection(ScorerReplicasCollection.Name)]
public sealed class RepositoryIndexTests(ScorerReplicasFixture platform)
{
    [Fact]
    public async Task TheIndexListsEveryVersionWithItsStateOnRestAndGrpc()
    {
        using var admin = platform.CreateGatewayClient();
        var name = UniqueName("index");
        var (v1, _) = await RegisterAsync(admin, name, "linear-v1.onnx");
        await RegisterAsync(admin, name, "linear-v2.onnx");
        await SetAliasAsync(admin, name, "production", v1);
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        // Version 1 is production, so both replicas load it; version 2 stays unloaded until a request names it.
        foreach (var scorer in ScorerReplicasFixture.Scorers)
        {
            using var direct = platform.CreateScorerClient(scorer);
            await EventuallyAsync(async () => (await direct.GetAsync($"/v2/models/{name}/ready")).StatusCode == HttpStatusCode.OK, $"{scorer} loaded version 1");
        }

        var (status, body, message) = await PostJsonAsync(reader, "/v2/repository/index", "{}");
        message.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        var entries = body.RootElement.EnumerateArray().Where(e => e.GetProperty("name").GetString() == name)
            .Select(e => (e.GetProperty("version").GetString(), e.GetProperty("state").GetString(), e.GetProperty("reason").GetString())).ToList();
        Assert.Equal(2, entries.Count);
        Assert.Equal(("1", "READY", ""), entries[0]);
        Assert.Equal(("2", "UNAVAILABLE"), (entries[1].Item1, entries[1].Item2));
        Assert.StartsWith("not loaded on this replica", entries[1].Item3);

        var (_, readyOnly, readyMessage) = await PostJsonAsync(reader, "/v2/repository/index", """{"ready": true}""");
        readyMessage.Dispose();
        Assert.Equal(["1"], readyOnly.RootElement.EnumerateArray().Where(e => e.GetProperty("name").GetString() == name).Select(e => e.GetProperty("version").GetString()));

        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(platform.CreateGatewayGrpcChannel());
        var index = await grpc.RepositoryIndexAsync(new RepositoryIndexRequest(), PlatformFixture.GrpcKey(PlatformFixture.ReaderApiKey))
            .ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal([("1", "READY"), ("2", "UNAVAILABLE")], index.Models.Where(m => m.Name == name).Select(m => (m.Version, m.State)));
    }

    [Fact]
    public async Task ARepositoryBodyWithoutAContentTypeIsReadAsJsonAsTritonsClientSendsIt()
    {
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var content = new ByteArrayContent("""{"ready": true}"""u8.ToArray());
        Assert.Null(content.Headers.ContentType);

        using var response = await reader.PostAsync("/v2/repository/index", content).WaitAsync(PlatformFixture.RequestTimeout);
        var index = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(JsonValueKind.Array, index.ValueKind);
        Assert.All(index.EnumerateArray(), entry => Assert.Equal("READY", entry.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task RepositoryWritesNeedTheOperatorRoleOnRestAndGrpc()
    {
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var content = new StringContent("""{"parameters":{"version":"1"}}""", Encoding.UTF8, "application/json");

        using var response = await reader.PostAsync("/v2/repository/models/anything/load", content).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("'reader' is not allowed", body.RootElement.GetProperty("error").GetString());
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(platform.CreateGatewayGrpcChannel());
        var error = await Assert.ThrowsAsync<RpcException>(() => grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "anything" },
            PlatformFixture.GrpcKey(PlatformFixture.ReaderApiKey)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }
}
