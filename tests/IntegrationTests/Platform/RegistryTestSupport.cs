using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace MlPlatform.IntegrationTests.Platform;

/// <summary>Model files and registry calls shared by the registry's integration tests.</summary>
internal static class RegistryTestSupport
{
    /// <summary>A hand-built MLP: input FP32 [-1, 8] -> probabilities FP32 [-1, 3].</summary>
    public static readonly string MlpModel = RepositoryFile("models", "tabular-mlp.onnx");

    /// <summary>An ML.NET classifier: input FP32 [-1, 4] -> PredictedLabel.output, Score.output.</summary>
    public static readonly string IrisModel = RepositoryFile("models", "iris.onnx");

    /// <summary>The MLP with its weights in a side file, which the registry must refuse.</summary>
    public static readonly string ExternalDataModel = RepositoryFile("tests", "IntegrationTests", "Assets", "mlp-external-data.onnx");

    /// <summary>A valid ~200-byte model whose loading makes ONNX Runtime allocate 1-2 GB (constant folding of an Expand).</summary>
    public static readonly string MemoryBombModel = RepositoryFile("tests", "IntegrationTests", "Assets", "expand-bomb.onnx");

    /// <summary>A valid ~400-byte model whose loading keeps ONNX Runtime computing for seconds (constant folding of 3072x3072 matrix products) within ~400 MB.</summary>
    public static readonly string TimeBombModel = RepositoryFile("tests", "IntegrationTests", "Assets", "matmul-time-bomb.onnx");

    /// <summary>A model name no other test uses, so tests can share one running platform.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    public static string Sha256Of(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string name, byte[] bytes, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/models/{name}/versions")
        {
            Content = new ByteArrayContent(bytes),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return await client.SendAsync(request).WaitAsync(PlatformFixture.RequestTimeout);
    }

    /// <summary>Registers <paramref name="bytes"/> and returns the new version's number.</summary>
    public static async Task<int> RegisterAsync(HttpClient client, string name, byte[] bytes)
    {
        using var response = await UploadAsync(client, name, bytes);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Registration answered {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("version").GetInt32();
    }

    public static async Task<HttpResponseMessage> SetAliasAsync(HttpClient client, string name, string alias, int version, string reason, int? weight = null) =>
        await client.PutAsJsonAsync($"/v1/models/{name}/aliases/{alias}", new { version, reason, weight }).WaitAsync(PlatformFixture.RequestTimeout);

    public static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync());

    /// <summary>Asserts an RFC 7807 body with the given status whose detail contains <paramref name="detailContains"/>.</summary>
    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.Equal((int)status, json.RootElement.GetProperty("status").GetInt32());
        var detail = json.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
        var errors = json.RootElement.TryGetProperty("errors", out var e) ? e.GetRawText() : "";
        Assert.Contains(detailContains, detail + errors, StringComparison.OrdinalIgnoreCase);
    }

    internal static string RepositoryFile(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MlPlatform.sln")))
        {
            dir = dir.Parent;
        }
        if (dir is null)
        {
            throw new InvalidOperationException("The repository root (MlPlatform.sln) is not above the test binaries.");
        }
        return Path.Combine([dir.FullName, .. parts]);
    }
}
