using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using static MlPlatform.IntegrationTests.Platform.RegistryTestSupport;

namespace MlPlatform.IntegrationTests.Registry;

[Collection(PlatformCollection.Name)]
public sealed class RegistryApiTests(PlatformFixture platform)
{
    [Fact]
    public async Task RegisteringAnOnnxModelRecordsTheSignatureOnnxRuntimeReadsAndTheHash()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("mlp");
        var bytes = await File.ReadAllBytesAsync(MlpModel);

        using var response = await UploadAsync(client, name, bytes);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/v1/models/{name}/versions/1", response.Headers.Location?.OriginalString);
        using var created = await ReadJsonAsync(response);
        var root = created.RootElement;
        Assert.Equal(name, root.GetProperty("name").GetString());
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal(Sha256Of(bytes), root.GetProperty("sha256").GetString());
        Assert.Equal(bytes.Length, root.GetProperty("sizeBytes").GetInt64());
        var input = root.GetProperty("signature").GetProperty("inputs").EnumerateArray().Single();
        Assert.Equal("input", input.GetProperty("name").GetString());
        Assert.Equal("FP32", input.GetProperty("datatype").GetString());
        Assert.Equal([-1L, 8L], input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var output = root.GetProperty("signature").GetProperty("outputs").EnumerateArray().Single();
        Assert.Equal("probabilities", output.GetProperty("name").GetString());
        Assert.Equal([-1L, 3L], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));

        using var read = await client.GetAsync($"/v1/models/{name}/versions/1").WaitAsync(PlatformFixture.RequestTimeout);
        using var readBody = await ReadJsonAsync(read);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(Sha256Of(bytes), readBody.RootElement.GetProperty("sha256").GetString());
        Assert.False(readBody.RootElement.GetProperty("archived").GetBoolean());
    }

    [Fact]
    public async Task MultipartRegistrationKeepsDescriptionAndTagsAndTheListFiltersByThem()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("irismp");
        using var form = new MultipartFormDataContent
        {
            { new StringContent("fraud team's iris"), "description" },
            { new ByteArrayContent(await File.ReadAllBytesAsync(IrisModel)), "file", "iris.onnx" },
            { new StringContent("team=fraud,stage=dev"), "tags" },
        };

        using var response = await client.PostAsync($"/v1/models/{name}/versions", form).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var created = await ReadJsonAsync(response);
        Assert.Equal("fraud team's iris", created.RootElement.GetProperty("description").GetString());
        Assert.Equal("fraud", created.RootElement.GetProperty("tags").GetProperty("team").GetString());
        Assert.Equal(["PredictedLabel.output", "Score.output"],
            created.RootElement.GetProperty("signature").GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()!).Take(2));

        using var byTag = await client.GetAsync($"/v1/models?prefix={name}&tag=team=fraud").WaitAsync(PlatformFixture.RequestTimeout);
        using var byTagBody = await ReadJsonAsync(byTag);
        Assert.Equal(1, byTagBody.RootElement.GetProperty("count").GetInt64());
        var item = byTagBody.RootElement.GetProperty("items")[0];
        Assert.Equal(name, item.GetProperty("name").GetString());
        Assert.Equal(1, item.GetProperty("latestVersion").GetInt32());

        using var otherTag = await client.GetAsync($"/v1/models?prefix={name}&tag=team=search").WaitAsync(PlatformFixture.RequestTimeout);
        using var otherTagBody = await ReadJsonAsync(otherTag);
        Assert.Equal(0, otherTagBody.RootElement.GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task ListingPagesThroughModelsInNameOrder()
    {
        using var client = platform.CreateGatewayClient();
        var prefix = UniqueName("page");
        var bytes = await File.ReadAllBytesAsync(MlpModel);
        foreach (var suffix in new[] { "c", "a", "b" })
        {
            await RegisterAsync(client, $"{prefix}-{suffix}", bytes);
        }

        using var second = await client.GetAsync($"/v1/models?prefix={prefix}&pageSize=2&pageIndex=1").WaitAsync(PlatformFixture.RequestTimeout);
        using var body = await ReadJsonAsync(second);

        Assert.Equal(3, body.RootElement.GetProperty("count").GetInt64());
        Assert.Equal(1, body.RootElement.GetProperty("pageIndex").GetInt32());
        Assert.Equal(2, body.RootElement.GetProperty("pageSize").GetInt32());
        Assert.Equal([$"{prefix}-c"], body.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()!));
    }

    [Fact]
    public async Task DownloadedArtifactIsByteForByteTheUploadWithTheHashAsETag()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("dl");
        var bytes = await File.ReadAllBytesAsync(IrisModel);
        var version = await RegisterAsync(client, name, bytes);

        using var byVersion = await client.GetAsync($"/v1/models/{name}/versions/{version}/artifact").WaitAsync(PlatformFixture.RequestTimeout);
        using var byHash = await client.GetAsync($"/v1/artifacts/{Sha256Of(bytes)}").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, byVersion.StatusCode);
        Assert.Equal(bytes, await byVersion.Content.ReadAsByteArrayAsync());
        Assert.Equal($"\"{Sha256Of(bytes)}\"", byVersion.Headers.ETag?.Tag);
        Assert.Equal(HttpStatusCode.OK, byHash.StatusCode);
        Assert.Equal(bytes, await byHash.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ArtifactDownloadHonoursRangeAndIfNoneMatch()
    {
        using var client = platform.CreateGatewayClient();
        var bytes = await File.ReadAllBytesAsync(MlpModel);
        var name = UniqueName("range");
        await RegisterAsync(client, name, bytes);
        var sha = Sha256Of(bytes);

        using var rangeRequest = new HttpRequestMessage(HttpMethod.Get, $"/v1/artifacts/{sha}");
        rangeRequest.Headers.Range = new RangeHeaderValue(100, 199);
        using var partial = await client.SendAsync(rangeRequest).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(bytes[100..200], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(bytes.Length, partial.Content.Headers.ContentRange?.Length);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/v1/models/{name}/versions/1/artifact");
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{sha}\""));
        using var notModified = await client.SendAsync(conditional).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task RetriedUploadWithTheSameIdempotencyKeyReturnsTheFirstVersion()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("idem");
        var bytes = await File.ReadAllBytesAsync(MlpModel);
        var key = Guid.NewGuid().ToString();

        using var first = await UploadAsync(client, name, bytes, key);
        using var retry = await UploadAsync(client, name, bytes, key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        using var firstBody = await ReadJsonAsync(first);
        using var retryBody = await ReadJsonAsync(retry);
        Assert.Equal(firstBody.RootElement.GetProperty("createdAt").GetString(), retryBody.RootElement.GetProperty("createdAt").GetString());

        using var model = await ReadJsonAsync(await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout));
        Assert.Equal(1, model.RootElement.GetProperty("versions").GetArrayLength());

        using var otherBytes = await UploadAsync(client, name, await File.ReadAllBytesAsync(IrisModel), key);
        await AssertProblemAsync(otherBytes, HttpStatusCode.Conflict, "different bytes");
    }

    [Fact]
    public async Task ParallelRegistrationsOfOneModelGetDistinctConsecutiveVersions()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("par");
        var bytes = await File.ReadAllBytesAsync(MlpModel);

        var versions = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => RegisterAsync(client, name, bytes)));

        Assert.Equal(Enumerable.Range(1, 8), versions.Order());
        using var model = await ReadJsonAsync(await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout));
        Assert.Equal(8, model.RootElement.GetProperty("latestVersion").GetInt32());
        // Identical bytes are stored once: every version points at the same artifact.
        Assert.Single(model.RootElement.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("sha256").GetString()).Distinct());
    }

    [Fact]
    public async Task AliasChangesAreListedOnTheModelAndRecordedInHistoryWithCallerAndReason()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("alias");
        var bytes = await File.ReadAllBytesAsync(MlpModel);
        await RegisterAsync(client, name, bytes);
        await RegisterAsync(client, name, bytes);

        using var promote = await SetAliasAsync(client, name, "production", 1, "first release");
        using var canary = await SetAliasAsync(client, name, "canary", 2, "try v2", weight: 10);
        using var promoteAgain = await SetAliasAsync(client, name, "production", 2, "v2 is good");

        Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
        Assert.Equal(HttpStatusCode.OK, canary.StatusCode);
        using var model = await ReadJsonAsync(await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout));
        var aliases = model.RootElement.GetProperty("aliases").EnumerateArray()
            .ToDictionary(a => a.GetProperty("name").GetString()!, a => (a.GetProperty("version").GetInt32(), a.GetProperty("weight").ValueKind == JsonValueKind.Null ? (int?)null : a.GetProperty("weight").GetInt32()));
        Assert.Equal((2, (int?)10), aliases["canary"]);
        Assert.Equal((2, (int?)null), aliases["production"]);

        using var history = await ReadJsonAsync(await client.GetAsync($"/v1/models/{name}/aliases/production/history").WaitAsync(PlatformFixture.RequestTimeout));
        var changes = history.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, changes.Count);
        Assert.Equal(JsonValueKind.Null, changes[0].GetProperty("fromVersion").ValueKind);
        Assert.Equal(1, changes[0].GetProperty("toVersion").GetInt32());
        Assert.Equal(1, changes[1].GetProperty("fromVersion").GetInt32());
        Assert.Equal(2, changes[1].GetProperty("toVersion").GetInt32());
        Assert.Equal("v2 is good", changes[1].GetProperty("reason").GetString());
        Assert.Equal("set", changes[1].GetProperty("kind").GetString());
        Assert.False(string.IsNullOrEmpty(changes[1].GetProperty("actor").GetString()));
    }

    [Fact]
    public async Task RollbackGoesBackOneGoodVersionAtATimeAndIsAConflictWhenNoneIsLeft()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("rb");
        var bytes = await File.ReadAllBytesAsync(MlpModel);
        for (var v = 1; v <= 3; v++)
        {
            await RegisterAsync(client, name, bytes);
            using var set = await SetAliasAsync(client, name, "production", v, $"release {v}");
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        using var first = await client.PostAsJsonAsync($"/v1/models/{name}/rollback", new { reason = "v3 errors" }).WaitAsync(PlatformFixture.RequestTimeout);
        using var second = await client.PostAsJsonAsync($"/v1/models/{name}/rollback", new { reason = "v2 errors too" }).WaitAsync(PlatformFixture.RequestTimeout);
        using var third = await client.PostAsJsonAsync($"/v1/models/{name}/rollback", new { reason = "still bad" }).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var body = await ReadJsonAsync(first))
        {
            Assert.Equal(2, body.RootElement.GetProperty("version").GetInt32());
        }
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        using (var body = await ReadJsonAsync(second))
        {
            // Further back, not forward to v3 which the first rollback left.
            Assert.Equal(1, body.RootElement.GetProperty("version").GetInt32());
        }
        await AssertProblemAsync(third, HttpStatusCode.Conflict, "nothing to roll back to");

        using var history = await ReadJsonAsync(await client.GetAsync($"/v1/models/{name}/aliases/production/history").WaitAsync(PlatformFixture.RequestTimeout));
        var last = history.RootElement.EnumerateArray().Last();
        Assert.Equal("rollback", last.GetProperty("kind").GetString());
        Assert.Equal(2, last.GetProperty("fromVersion").GetInt32());
        Assert.Equal(1, last.GetProperty("toVersion").GetInt32());
        Assert.Equal("v2 errors too", last.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task RollbackOfAModelWithoutProductionIsAConflict()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("rbnone");
        await RegisterAsync(client, name, await File.ReadAllBytesAsync(MlpModel));

        using var response = await client.PostAsJsonAsync($"/v1/models/{name}/rollback", new { reason = "why not" }).WaitAsync(PlatformFixture.RequestTimeout);

        await AssertProblemAsync(response, HttpStatusCode.Conflict, "no 'production' alias");
    }

    [Fact]
    public async Task ArchivingIsAConflictWhileAnAliasPointsAtTheVersionAndArchivedVersionsCannotBeAliased()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("arch");
        var bytes = await File.ReadAllBytesAsync(MlpModel);
        await RegisterAsync(client, name, bytes);
        using var set = await SetAliasAsync(client, name, "staging", 1, "testing");

        using var refused = await client.DeleteAsync($"/v1/models/{name}/versions/1").WaitAsync(PlatformFixture.RequestTimeout);
        await AssertProblemAsync(refused, HttpStatusCode.Conflict, "'staging'");

        using var unalias = await client.DeleteAsync($"/v1/models/{name}/aliases/staging?reason=done").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NoContent, unalias.StatusCode);
        using var archived = await client.DeleteAsync($"/v1/models/{name}/versions/1").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, archived.StatusCode);
        using (var body = await ReadJsonAsync(archived))
        {
            Assert.True(body.RootElement.GetProperty("archived").GetBoolean());
        }

        using var realias = await SetAliasAsync(client, name, "staging", 1, "again");
        await AssertProblemAsync(realias, HttpStatusCode.Conflict, "archived");
        // Kept for audit.
        using var artifact = await client.GetAsync($"/v1/models/{name}/versions/1/artifact").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(bytes, await artifact.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task PatchChangesDescriptionAndTagsButNotTheArtifact()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("patch");
        var bytes = await File.ReadAllBytesAsync(MlpModel);
        await RegisterAsync(client, name, bytes);

        using var patched = await client.PatchAsJsonAsync($"/v1/models/{name}/versions/1",
            new { description = "calibrated", tags = new Dictionary<string, string> { ["owner"] = "ml" } }).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        using var body = await ReadJsonAsync(patched);
        Assert.Equal("calibrated", body.RootElement.GetProperty("description").GetString());
        Assert.Equal("ml", body.RootElement.GetProperty("tags").GetProperty("owner").GetString());
        Assert.Equal(Sha256Of(bytes), body.RootElement.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task ServingSettingsRoundTripAndOutOfRangeValuesAreRejected()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("serve");
        await RegisterAsync(client, name, await File.ReadAllBytesAsync(MlpModel));

        using var defaults = await ReadJsonAsync(await client.GetAsync($"/v1/models/{name}/serving").WaitAsync(PlatformFixture.RequestTimeout));
        Assert.Equal(JsonValueKind.Null, defaults.RootElement.GetProperty("batching").ValueKind);

        var settings = new
        {
            batching = new { enabled = true, maxBatchSize = 16, maxQueueDelayMs = 2.5 },
            instanceCount = 2,
            warmupShapes = new Dictionary<string, long[]> { ["input"] = [4, 8] },
            responseCache = new { enabled = true },
        };
        using var put = await client.PutAsJsonAsync($"/v1/models/{name}/serving", settings).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        using var read = await ReadJsonAsync(await client.GetAsync($"/v1/models/{name}/serving").WaitAsync(PlatformFixture.RequestTimeout));
        var root = read.RootElement;
        Assert.True(root.GetProperty("batching").GetProperty("enabled").GetBoolean());
        Assert.Equal(16, root.GetProperty("batching").GetProperty("maxBatchSize").GetInt32());
        Assert.Equal(2.5, root.GetProperty("batching").GetProperty("maxQueueDelayMs").GetDouble());
        Assert.Equal(2, root.GetProperty("instanceCount").GetInt32());
        Assert.Equal([4L, 8L], root.GetProperty("warmupShapes").GetProperty("input").EnumerateArray().Select(d => d.GetInt64()));
        Assert.True(root.GetProperty("responseCache").GetProperty("enabled").GetBoolean());

        using var invalid = await client.PutAsJsonAsync($"/v1/models/{name}/serving",
            new { batching = new { enabled = true, maxBatchSize = 0 }, instanceCount = 100 }).WaitAsync(PlatformFixture.RequestTimeout);
        await AssertProblemAsync(invalid, HttpStatusCode.BadRequest, "maxBatchSize");
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("a..b")]
    [InlineData("-leading-dash")]
    [InlineData("has%20space")]
    [InlineData("a%2Fb")]
    [InlineData("a%2e%2eb")]
    [InlineData("waytoolong-0123456789012345678901234567890123456789012345678901234567890")]
    public async Task InvalidModelNamesAreRejectedWithTheNamingRule(string name)
    {
        using var client = platform.CreateGatewayClient();

        using var upload = await UploadAsync(client, name, await File.ReadAllBytesAsync(MlpModel));
        using var read = await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout);

        await AssertProblemAsync(upload, HttpStatusCode.BadRequest, "^[a-z0-9][a-z0-9._-]{0,63}$");
        await AssertProblemAsync(read, HttpStatusCode.BadRequest, "is not a valid model name");
    }

    [Theory]
    [InlineData("..")]
    [InlineData("%2e%2e")]
    [InlineData("%2E%2E")]
    [InlineData(".%2e")]
    public async Task DotDotAsAModelNameNeverReachesAModel(string rawName)
    {
        // Sent byte for byte: HttpClient's Uri would normalise the dot segment away before it left the test.
        var (status, body) = await SendRawAsync($"POST /v1/models/{rawName}/versions", await File.ReadAllBytesAsync(MlpModel));

        // The gateway decodes and removes the dot segment, so the path becomes /v1/versions, which routes nowhere.
        Assert.True(status is 400 or 404, $"Answered {status}: {body}");
        using var client = platform.CreateGatewayClient();
        using var list = await ReadJsonAsync(await client.GetAsync("/v1/models?prefix=.").WaitAsync(PlatformFixture.RequestTimeout));
        Assert.Equal(0, list.RootElement.GetProperty("count").GetInt64());
    }

    private async Task<(int Status, string Body)> SendRawAsync(string requestLine, byte[] body)
    {
        var gateway = platform.App.GetEndpoint("gateway", "http");
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(gateway.Host, gateway.Port).WaitAsync(PlatformFixture.RequestTimeout);
        await using var stream = tcp.GetStream();
        var head = $"{requestLine} HTTP/1.1\r\nHost: {gateway.Authority}\r\nAuthorization: Bearer {PlatformFixture.AdminApiKey}\r\n"
            + $"Content-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync().WaitAsync(PlatformFixture.RequestTimeout);
        var status = int.Parse(response.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, response);
    }

    [Fact]
    public async Task EmptyUploadsAreRejected()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("empty");

        using var raw = await UploadAsync(client, name, []);
        using var form = new MultipartFormDataContent { { new StringContent("no file"), "description" } };
        using var multipart = await client.PostAsync($"/v1/models/{name}/versions", form).WaitAsync(PlatformFixture.RequestTimeout);

        await AssertProblemAsync(raw, HttpStatusCode.BadRequest, "no model file");
        await AssertProblemAsync(multipart, HttpStatusCode.BadRequest, "no model file");
        using var model = await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, model.StatusCode);
    }

    [Fact]
    public async Task AFileThatIsNotAnOnnxModelIsUnprocessableWithItsReason()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("junk");

        using var response = await UploadAsync(client, name, Encoding.UTF8.GetBytes("this is a CSV file, not a model\n1,2,3\n"));

        await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "The file is not a well-formed ONNX model");
        using var model = await client.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, model.StatusCode);
    }

    [Fact]
    public async Task AModelWithExternalDataIsRefused()
    {
        using var client = platform.CreateGatewayClient();

        using var response = await UploadAsync(client, UniqueName("ext"), await File.ReadAllBytesAsync(ExternalDataModel));

        await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "external files");
    }

    [Fact]
    public async Task OtherContentTypesAreUnsupported()
    {
        using var client = platform.CreateGatewayClient();

        using var response = await client.PostAsJsonAsync($"/v1/models/{UniqueName("json")}/versions", new { model = "x" }).WaitAsync(PlatformFixture.RequestTimeout);

        // Routing refuses it from the endpoint's declared media types, before any byte is read.
        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, detailContains: "");
    }

    [Fact]
    public async Task BadReferencesAndBodiesGetProblemDetails()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("bad");
        await RegisterAsync(client, name, await File.ReadAllBytesAsync(MlpModel));

        await AssertProblemAsync(await client.GetAsync($"/v1/models/{UniqueName("missing")}"), HttpStatusCode.NotFound, "does not exist");
        await AssertProblemAsync(await client.GetAsync($"/v1/models/{name}/versions/abc"), HttpStatusCode.BadRequest, "integers from 1");
        await AssertProblemAsync(await client.GetAsync($"/v1/models/{name}/versions/0"), HttpStatusCode.BadRequest, "integers from 1");
        await AssertProblemAsync(await client.GetAsync($"/v1/models/{name}/versions/7"), HttpStatusCode.NotFound, "no version 7");
        await AssertProblemAsync(await client.GetAsync("/v1/artifacts/not-a-hash"), HttpStatusCode.BadRequest, "64 lowercase");
        await AssertProblemAsync(await client.GetAsync($"/v1/artifacts/{new string('0', 64)}"), HttpStatusCode.NotFound, "No artifact");
        await AssertProblemAsync(await SetAliasAsync(client, name, "canary", 1, "x", weight: 101), HttpStatusCode.BadRequest, "between 0 and 100");
        await AssertProblemAsync(await SetAliasAsync(client, name, "production", 1, "x", weight: 50), HttpStatusCode.BadRequest, "other than 'production'");
        await AssertProblemAsync(await SetAliasAsync(client, name, "Prod", 1, "x"), HttpStatusCode.BadRequest, "is not a valid alias name");
        await AssertProblemAsync(await SetAliasAsync(client, name, "production", 9, "x"), HttpStatusCode.NotFound, "no version 9");
        await AssertProblemAsync(await SetAliasAsync(client, name, "production", 1, " "), HttpStatusCode.BadRequest, "'reason' is required");
        await AssertProblemAsync(await client.GetAsync("/v1/models?pageSize=0"), HttpStatusCode.BadRequest, "pageSize");
        await AssertProblemAsync(await client.GetAsync("/v1/models?tag=novalue"), HttpStatusCode.BadRequest, "k=v");

        using var malformed = new StringContent("{not json", Encoding.UTF8, "application/json");
        using var response = await client.PutAsync($"/v1/models/{name}/aliases/production", malformed).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AnAliasChangeIsPublishedOnRedisAfterItIsCommitted()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("event");
        var bytes = await File.ReadAllBytesAsync(MlpModel);
        await RegisterAsync(client, name, bytes);
        var connectionString = await platform.App.GetConnectionStringAsync("redis").AsTask().WaitAsync(PlatformFixture.RequestTimeout);
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(connectionString!).WaitAsync(PlatformFixture.RequestTimeout);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var channel = await redis.GetSubscriber().SubscribeAsync(StackExchange.Redis.RedisChannel.Literal("mlplatform:events"))
            .WaitAsync(PlatformFixture.RequestTimeout);
        channel.OnMessage(message =>
        {
            if (message.Message.ToString().Contains($"\"model\":\"{name}\"", StringComparison.Ordinal))
            {
                received.TrySetResult(message.Message.ToString());
            }
        });

        using var set = await SetAliasAsync(client, name, "production", 1, "go live");
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var published = await received.Task.WaitAsync(PlatformFixture.RequestTimeout);

        using var json = JsonDocument.Parse(published);
        var root = json.RootElement;
        Assert.Equal("alias-changed", root.GetProperty("type").GetString());
        Assert.Equal("production", root.GetProperty("alias").GetString());
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("previousVersion").ValueKind);
        Assert.Equal(Sha256Of(bytes), root.GetProperty("sha256").GetString());
        Assert.True(root.TryGetProperty("at", out _));

        var log = await redis.GetDatabase().StreamRangeAsync("mlplatform:events:log", "-", "+").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Contains(log, entry => entry["event"].ToString() == published);
    }
}
