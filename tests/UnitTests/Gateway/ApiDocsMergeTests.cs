using System.Text.Json.Nodes;
using MlPlatform.Gateway.Docs;

namespace MlPlatform.UnitTests.Gateway;

public sealed class ApiDocsMergeTests
{
    private static JsonObject Doc(string path, string schema, string tag) => new()
    {
        ["openapi"] = "3.1.1",
        ["info"] = new JsonObject { ["title"] = "x", ["version"] = "v1" },
        ["paths"] = new JsonObject { [path] = new JsonObject { ["get"] = new JsonObject { ["tags"] = new JsonArray(tag) } } },
        ["components"] = new JsonObject { ["schemas"] = new JsonObject { [schema] = new JsonObject { ["type"] = "object" } } },
        ["tags"] = new JsonArray(new JsonObject { ["name"] = tag }),
    };

    [Fact]
    public void PathsSchemasAndTagsOfEveryServiceAreKeptAndTheGatewayIsTheServer()
    {
        var merged = ApiDocsApi.Merge([Doc("/v1/models", "Model", "Models"), Doc("/v1/batch/jobs", "BatchJob", "Batch")], [], "MlPlatform");

        Assert.Equal(["/v1/models", "/v1/batch/jobs"], merged["paths"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["Model", "BatchJob"], merged["components"]!["schemas"]!.AsObject().Select(p => p.Key));
        Assert.Equal(2, merged["tags"]!.AsArray().Count);
        Assert.Equal("/", merged["servers"]![0]!["url"]!.GetValue<string>());
        Assert.Equal("bearer", merged["components"]!["securitySchemes"]!["apiKey"]!["scheme"]!.GetValue<string>());
        Assert.True(merged["security"]![0]!.AsObject().ContainsKey("apiKey"));
    }

    [Fact]
    public void TheFirstServiceKeepsACollidingNameAndMissingServicesAreNamed()
    {
        var first = Doc("/v1/x", "Problem", "A");
        var second = Doc("/v1/x", "Problem", "A");
        second["paths"]!["/v1/x"]!["get"]!["summary"] = "from the second";

        var merged = ApiDocsApi.Merge([first, second], ["batchscorer"], "MlPlatform");

        Assert.Null(merged["paths"]!["/v1/x"]!["get"]!["summary"]);
        Assert.Single(merged["tags"]!.AsArray());
        Assert.Contains("batchscorer", merged["info"]!["description"]!.GetValue<string>());
    }
}
