using System.Text.Json;

namespace MlPlatform.IntegrationTests.Platform;

/// <summary>The gateway's <c>/docs</c>: an interactive reference and the merged OpenAPI document, open without a key.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ApiDocsTests(PlatformFixture platform)
{
    [Fact]
    public async Task DocsAnswersTheInteractiveReferenceWithoutAKey()
    {
        using var client = platform.CreateGatewayClient(apiKey: null);

        using var response = await client.GetAsync("/docs").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<title>MlPlatform API</title>", html);
        // The page's script comes from the gateway too, also without a key.
        var script = System.Text.RegularExpressions.Regex.Match(html, "<script[^>]+src=\"([^\"]+)\"").Groups[1].Value;
        Assert.False(script.Length == 0, html);
        using var asset = await client.GetAsync(new Uri(response.RequestMessage!.RequestUri!, script)).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
    }

    [Fact]
    public async Task TheMergedOpenApiDocumentListsTheRoutesOfEveryService()
    {
        using var client = platform.CreateGatewayClient(apiKey: null);

        using var response = await client.GetAsync("/docs/openapi/platform.json").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Contains("/v1/models/{name}/versions", paths);
        Assert.Contains("/v1/models/{name}/rollback", paths);
        Assert.Contains("/v1/batch/jobs", paths);
        Assert.Contains(paths, p => p.StartsWith("/v2/models/", StringComparison.Ordinal) && p.EndsWith("/infer", StringComparison.Ordinal));
        Assert.Equal("bearer", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("apiKey").GetProperty("scheme").GetString());
        Assert.DoesNotContain("Not included", document.RootElement.GetProperty("info").GetProperty("description").GetString());
    }

    [Fact]
    public async Task EachServicesDocumentIsServedAloneAndAnUnknownOneIsNotFound()
    {
        using var client = platform.CreateGatewayClient(apiKey: null);

        using var registry = await client.GetAsync("/docs/openapi/modelregistry.json").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, registry.StatusCode);
        using var document = JsonDocument.Parse(await registry.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/v1/models", paths);
        Assert.DoesNotContain("/v1/batch/jobs", paths);

        using var unknown = await client.GetAsync("/docs/openapi/secrets.json").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("is not a document", await unknown.Content.ReadAsStringAsync());
    }
}
