using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace MlPlatform.IntegrationTests.Gateway;

/// <summary>The role × route matrix, through the gateway: every route, every role, no key and a bad key.</summary>
[Collection(PlatformCollection.Name)]
public sealed class GatewayAuthorizationTests(PlatformFixture platform)
{
    private const string Open = "open";
    private const string BadKey = "not-a-key-of-this-platform-0123456789";

    // Names no other test uses, so that admin writes in the matrix (archive, rollback, alias changes) cannot disturb other tests' models.
    private const string Model = "gateway-matrix-model";
    private const string Job = "gateway-matrix-job";

    /// <summary>(method, path, the weakest role allowed); the table in docs/gateway.md.</summary>
    public static readonly (string Method, string Path, string Required)[] Routes =
    [
        ("GET", "/health", Open),
        ("GET", "/alive", Open),
        ("GET", "/v2/health/live", Open),
        ("GET", "/v2/health/ready", Open),
        ("GET", "/v2", "reader"),
        ("GET", $"/v2/models/{Model}", "reader"),
        ("GET", $"/v2/models/{Model}/ready", "reader"),
        ("GET", $"/v2/models/{Model}/versions/1", "reader"),
        ("POST", $"/v2/models/{Model}/infer", "reader"),
        ("POST", $"/v2/models/{Model}/versions/1/infer", "reader"),
        ("GET", "/v2/models/stats", "reader"),
        ("GET", $"/v2/models/{Model}/stats", "reader"),
        ("POST", "/v2/repository/index", "reader"),
        ("POST", $"/v2/repository/models/{Model}/load", "operator"),
        ("POST", $"/v2/repository/models/{Model}/unload", "operator"),
        ("GET", "/v1/models", "reader"),
        ("GET", $"/v1/models/{Model}", "reader"),
        ("GET", $"/v1/models/{Model}/versions/1", "reader"),
        ("GET", $"/v1/models/{Model}/versions/1/artifact", "reader"),
        ("GET", $"/v1/models/{Model}/serving", "reader"),
        ("GET", $"/v1/models/{Model}/aliases/production/history", "reader"),
        ("POST", $"/v1/models/{Model}/versions", "admin"),
        ("PATCH", $"/v1/models/{Model}/versions/1", "admin"),
        ("DELETE", $"/v1/models/{Model}/versions/1", "admin"),
        ("PUT", $"/v1/models/{Model}/serving", "admin"),
        ("PUT", $"/v1/models/{Model}/aliases/production", "admin"),
        ("DELETE", $"/v1/models/{Model}/aliases/canary", "admin"),
        ("POST", $"/v1/models/{Model}/rollback", "admin"),
        ("GET", "/v1/artifacts/" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "reader"),
        ("DELETE", "/v1/artifacts/" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "admin"),
        ("GET", "/v1/alerts", "reader"),
        ("POST", "/v1/alerts", "admin"),
        // Readers have no batch access: jobs belong to the operator key that submitted them.
        ("GET", "/v1/batch/jobs", "operator"),
        ("GET", $"/v1/batch/jobs/{Job}", "operator"),
        ("GET", $"/v1/batch/jobs/{Job}/results", "operator"),
        ("POST", "/v1/batch/jobs", "operator"),
        ("POST", $"/v1/batch/jobs/{Job}/cancel", "operator"),
        ("DELETE", $"/v1/batch/jobs/{Job}", "operator"),
        ("PUT", $"/v1/batch/jobs/{Job}", "admin"),
    ];

    private static readonly string[] Callers = ["none", "bad-key", "reader", "operator", "admin"];

    public static TheoryData<string, string, string, string> Matrix()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var (method, path, required) in Routes)
        {
            foreach (var caller in Callers)
            {
                data.Add(method, path, required, caller);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task EveryRouteLetsThroughExactlyTheRolesItsPolicyAllows(string method, string path, string required, string caller)
    {
        using var client = platform.CreateGatewayClient(KeyOf(caller));
        using var request = CreateRequest(method, path);

        using var response = await client.SendAsync(request).WaitAsync(PlatformFixture.RequestTimeout);

        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        if (required == Open || (caller is not ("none" or "bad-key") && Allows(caller, required)))
        {
            Assert.False(status is 401 or 403 or 429, $"{caller} was refused {method} {path}: {status} {body}");
            if (path is not ("/health" or "/alive"))
            {
                // The gateway sends no Server header of its own (Kestrel's AddServerHeader is off), so one here was written by the backend:
                // the request went through, whatever the backend (which may not implement the route yet) made of it.
                Assert.True(response.Headers.Server.Count > 0, $"{method} {path} as {caller} was answered {status} by the gateway, not a backend: {body}");
            }
            return;
        }

        if (caller is "none" or "bad-key")
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var challenge = Assert.Single(response.Headers.WwwAuthenticate);
            Assert.Equal("Bearer", challenge.Scheme);
            Assert.Contains("realm=\"mlplatform\"", challenge.Parameter);
            Assert.Contains(caller == "none" ? "An API key is required" : "not valid", ErrorMessageOf(path, body));
        }
        else
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains($"role '{caller}' is not allowed", ErrorMessageOf(path, body));
        }
        Assert.Empty(response.Headers.Server);
    }

    [Fact]
    public async Task TheKeyIsAcceptedInTheXApiKeyHeaderToo()
    {
        using var client = platform.CreateGatewayClient(apiKey: null);
        client.DefaultRequestHeaders.Add("X-API-Key", PlatformFixture.ReaderApiKey);

        using var response = await client.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TwoDifferentKeysInOneRequestAreRefused()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        client.DefaultRequestHeaders.Add("X-API-Key", PlatformFixture.AdminApiKey);

        using var response = await client.PutAsJsonAsync($"/v1/models/{Model}/aliases/production", new { version = 1, reason = "escalate" })
            .WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("different keys", ErrorMessageOf("/v1", await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task ClientSuppliedIdentityAndInternalHeadersGrantNothing()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/models/{Model}/rollback")
        {
            Content = JsonContent.Create(new { reason = "spoof" }),
        };
        request.Headers.Add("X-MlPlatform-Role", "admin");
        request.Headers.Add("X-MlPlatform-Actor", "admin");
        request.Headers.Add("X-MlPlatform-Internal-Key", PlatformFixture.InternalApiKey);

        using var response = await client.SendAsync(request).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);

        using var anonymous = platform.CreateGatewayClient(apiKey: null);
        anonymous.DefaultRequestHeaders.Add("X-MlPlatform-Internal-Key", PlatformFixture.InternalApiKey);
        using var withoutKey = await anonymous.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
    }

    [Fact]
    public async Task OnlyTheBearerSchemeIsAccepted()
    {
        using var client = platform.CreateGatewayClient(apiKey: null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + PlatformFixture.AdminApiKey)));

        using var response = await client.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Bearer scheme", ErrorMessageOf("/v1", await response.Content.ReadAsStringAsync()));
    }

    internal static string? KeyOf(string caller) => caller switch
    {
        "none" => null,
        "bad-key" => BadKey,
        "reader" => PlatformFixture.ReaderApiKey,
        "operator" => PlatformFixture.OperatorApiKey,
        "admin" => PlatformFixture.AdminApiKey,
        _ => throw new ArgumentOutOfRangeException(nameof(caller), caller, null),
    };

    private static bool Allows(string caller, string required) => required switch
    {
        "reader" => true,
        "operator" => caller is "operator" or "admin",
        "admin" => caller == "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(required), required, null),
    };

    internal static HttpRequestMessage CreateRequest(string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = path.EndsWith("/versions/1/infer", StringComparison.Ordinal)
                ? new ByteArrayContent(new byte[16]) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } }
                : new StringContent("{}", Encoding.UTF8, "application/json");
        }
        return request;
    }

    /// <summary>The message of a gateway error: <c>error</c> of a V2 body under /v2, <c>detail</c> of problem details elsewhere.</summary>
    internal static string ErrorMessageOf(string path, string body)
    {
        using var json = JsonDocument.Parse(body);
        return path.StartsWith("/v2", StringComparison.Ordinal)
            ? json.RootElement.GetProperty("error").GetString() ?? ""
            : json.RootElement.GetProperty("detail").GetString() ?? "";
    }
}
