using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace MlPlatform.IntegrationTests.Gateway;

/// <summary>Errors the gateway raises itself have the platform's one shape and carry the trace id; hostile input never breaks the door.</summary>
[Collection(PlatformCollection.Name)]
public sealed class GatewayErrorTests(PlatformFixture platform)
{
    [Fact]
    public async Task UnauthorizedUnderV2IsAnOpenInferenceProtocolError()
    {
        using var client = platform.CreateGatewayClient(apiKey: null);

        using var response = await client.GetAsync("/v2/models/iris").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Object, body.RootElement.ValueKind);
        Assert.Equal("error", Assert.Single(body.RootElement.EnumerateObject()).Name);
        Assert.StartsWith("An API key is required", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ForbiddenOutsideV2IsProblemDetailsWhoseTraceIdMatchesTheTraceHeader()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);

        using var response = await client.PostAsJsonAsync("/v1/models/iris/rollback", new { reason = "test" }).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(403, body.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("Forbidden", body.RootElement.GetProperty("title").GetString());
        Assert.Equal("The API key's role 'reader' is not allowed to POST /v1/models/iris/rollback.", body.RootElement.GetProperty("detail").GetString());
        var traceId = Assert.Single(response.Headers.GetValues("X-Trace-Id"));
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        Assert.Contains(traceId, body.RootElement.GetProperty("traceId").GetString());
    }

    [Fact]
    public async Task EveryResponseCarriesTheTraceIdOfTheCallersTrace()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Add("traceparent", $"00-{traceId}-0123456789abcdef-01");

        using var response = await client.SendAsync(request).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(traceId, Assert.Single(response.Headers.GetValues("X-Trace-Id")));
    }

    [Fact]
    public async Task AnUnknownPathIsA404ProblemFromTheGateway()
    {
        using var client = platform.CreateGatewayClient();

        using var response = await client.GetAsync("/v1/secrets").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("No route for GET /v1/secrets.", body.RootElement.GetProperty("detail").GetString());
        Assert.Empty(response.Headers.Server);
    }

    [Fact]
    public async Task OversizedHeadersAreRefusedWith431()
    {
        using var client = platform.CreateGatewayClient();
        client.DefaultRequestHeaders.Add("X-Padding", new string('a', 40 * 1024));

        using var response = await client.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        await AssertPlatformStillServesAsync();
    }

    public static TheoryData<string, string, string> HostileBodies() => new()
    {
        { "malformed JSON", "application/json", "{\"inputs\": [ {\"name\": \"input\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [1, 2," },
        { "10^9-element shape", "application/json", "{\"inputs\":[{\"name\":\"input\",\"shape\":[1000000000,1000000000],\"datatype\":\"FP32\",\"data\":[1]}]}" },
        { "deeply nested arrays", "application/json", "{\"inputs\":[{\"name\":\"input\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":" + new string('[', 100_000) + new string(']', 100_000) + "}]}" },
        { "XML content type", "application/xml", "<inputs><input name=\"input\"/></inputs>" },
        { "form content type", "application/x-www-form-urlencoded", "inputs=1&inputs=2" },
        { "binary without header length", "application/octet-stream", "\u0001\u0002\u0003" },
    };

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public async Task HostileInferenceBodiesGetAClientErrorAndThePlatformKeepsServing(string what, string contentType, string payload)
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var content = new StringContent(payload, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);

        using var response = await client.PostAsync("/v2/models/iris/infer", content).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{what}: {(int)response.StatusCode}");
        await AssertPlatformStillServesAsync();
    }

    public static TheoryData<string, string> PathTricks() => new()
    {
        // Dot segments, encoded or not, are resolved by the server before routing, so they land on the admin route and its policy.
        { "PUT", "/v2/%2e%2e/v1/models/iris/aliases/production" },
        { "PUT", "/v1/models/iris/../iris/aliases/production" },
        { "PUT", "/v1/batch/%2E%2E/models/iris/aliases/production" },
        { "POST", "/v1/models/%2e%2e/iris/rollback" },
        { "POST", "/v1/batch/jobs/%2e%2e/%2e%2e/models/iris/rollback" },
    };

    [Theory]
    [MemberData(nameof(PathTricks))]
    public async Task DotSegmentTricksCannotReachAnAdminRouteWithAReaderKey(string method, string path)
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var request = new HttpRequestMessage(new HttpMethod(method), RawUri(client, path))
        {
            Content = JsonContent.Create(new { version = 1, reason = "path trick" }),
        };

        using var response = await client.SendAsync(request).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await AssertPlatformStillServesAsync();
    }

    [Theory]
    [InlineData("/v1/models/%2e%2e%2f%2e%2e%2fv1%2falerts")]
    [InlineData("/v1/models/..%2F..%2F..%2Fetc%2Fpasswd/versions/1/artifact")]
    [InlineData("/v2/models/%2e%2e%5c%2e%2e%5cwindows/infer")]
    [InlineData("/v1/models/%00iris")]
    public async Task EncodedTraversalInAModelNameGetsAClientError(string path)
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.AdminApiKey);

        using var response = await client.GetAsync(RawUri(client, path)).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{path}: {(int)response.StatusCode}");
        await AssertPlatformStillServesAsync();
    }

    /// <summary>The URI exactly as written: System.Uri would otherwise resolve the dot segments before the request leaves.</summary>
    private static Uri RawUri(HttpClient client, string path) =>
        new(client.BaseAddress!.GetLeftPart(UriPartial.Authority) + path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });

    private async Task AssertPlatformStillServesAsync()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var models = await client.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        using var ready = await client.GetAsync("/v2/health/ready").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }
}
