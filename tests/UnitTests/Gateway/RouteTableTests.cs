using System.Text.Json;
using MlPlatform.Gateway.Limits;

namespace MlPlatform.UnitTests.Gateway;

/// <summary>The gateway's route table (Gateway/appsettings.json) against its policies: every route locked as documented in docs/gateway.md.</summary>
public sealed class RouteTableTests
{
    private static readonly JsonElement Routes = LoadRoutes();

    public static TheoryData<string, string> ExpectedPolicies() => new()
    {
        { "inference-health", "Anonymous" },
        { "inference", "reader" },
        { "inference-repository-index", "reader" },
        { "inference-repository", "operator" },
        { "grpc-server-live", "Anonymous" },
        { "grpc-server-ready", "Anonymous" },
        { "grpc-reflection", "Anonymous" },
        { "grpc-reflection-v1", "Anonymous" },
        { "grpc-repository-load", "operator" },
        { "grpc-repository-unload", "operator" },
        { "grpc-stream", "reader" },
        { "grpc", "reader" },
        { "models-payloads", "operator" },
        { "models-feedback", "operator" },
        { "models-reference", "operator" },
        { "models-read", "reader" },
        { "models-upload", "admin" },
        { "models", "admin" },
        { "artifacts-read", "reader" },
        { "artifacts", "admin" },
        { "alerts-read", "reader" },
        { "alerts", "admin" },
        { "batch-read", "operator" },
        { "batch-jobs-write", "operator" },
        { "batch", "admin" },
    };

    [Theory]
    [MemberData(nameof(ExpectedPolicies))]
    public void EachRouteNamesTheAuthorizationPolicyOfItsRole(string routeId, string policy)
    {
        Assert.Equal(policy, Routes.GetProperty(routeId).GetProperty("AuthorizationPolicy").GetString());
    }

    [Fact]
    public void EveryRouteIsInThePolicyTable()
    {
        var expected = ExpectedPolicies().Select(row => (string)row[0]).Order();
        Assert.Equal(expected, Routes.EnumerateObject().Select(r => r.Name).Order());
    }

    [Fact]
    public void EveryKeyedRouteIsRateLimitedPerKeyAndOnlyHealthAndReflectionAreAnonymous()
    {
        string[] anonymousPaths = ["/v2/health/", "/inference.GRPCInferenceService/ServerLive", "/inference.GRPCInferenceService/ServerReady",
            "/grpc.reflection.v1alpha.ServerReflection/", "/grpc.reflection.v1.ServerReflection/"];
        foreach (var route in Routes.EnumerateObject())
        {
            var anonymous = route.Value.GetProperty("AuthorizationPolicy").GetString() == "Anonymous";
            var path = route.Value.GetProperty("Match").GetProperty("Path").GetString()!;
            Assert.Equal(anonymous, anonymousPaths.Any(p => path.StartsWith(p, StringComparison.Ordinal)));
            if (!anonymous)
            {
                Assert.Equal(RateLimitOptions.PerKeyPolicy, route.Value.GetProperty("RateLimiterPolicy").GetString());
            }
        }
    }

    [Fact]
    public void EveryRouteNamesAnExistingTimeoutAndBodySizeLimit()
    {
        var timeouts = new TimeoutOptions();
        var bodies = new BodySizeLimitOptions();
        foreach (var route in Routes.EnumerateObject())
        {
            Assert.NotNull(timeouts.For(route.Value.GetProperty("TimeoutPolicy").GetString()!));
            var limit = route.Value.TryGetProperty("Metadata", out var metadata) && metadata.TryGetProperty(BodySizeLimitOptions.MetadataKey, out var name)
                ? name.GetString()
                : null;
            Assert.NotNull(bodies.For(limit));
        }
    }

    [Fact]
    public void InferenceUploadAndBatchRoutesCarryTheirOwnBodyLimits()
    {
        Assert.Equal("inference", Routes.GetProperty("inference").GetProperty("Metadata").GetProperty("BodySizeLimit").GetString());
        Assert.Equal("upload", Routes.GetProperty("models-upload").GetProperty("Metadata").GetProperty("BodySizeLimit").GetString());
        Assert.Equal("batch", Routes.GetProperty("batch-jobs-write").GetProperty("Metadata").GetProperty("BodySizeLimit").GetString());
        Assert.Equal("inference", Routes.GetProperty("inference").GetProperty("TimeoutPolicy").GetString());
        Assert.Equal("inference", Routes.GetProperty("grpc").GetProperty("Metadata").GetProperty("BodySizeLimit").GetString());
        Assert.Equal("stream", Routes.GetProperty("grpc-stream").GetProperty("Metadata").GetProperty("BodySizeLimit").GetString());
        Assert.Equal("stream", Routes.GetProperty("grpc-stream").GetProperty("TimeoutPolicy").GetString());
    }

    [Fact]
    public void GrpcRoutesGoToTheScorersHttp2EndpointOverH2c()
    {
        foreach (var route in Routes.EnumerateObject().Where(r => r.Name.StartsWith("grpc", StringComparison.Ordinal)))
        {
            Assert.Equal("onlinescorer-grpc", route.Value.GetProperty("ClusterId").GetString());
        }
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "gateway.appsettings.json")));
        var cluster = json.RootElement.GetProperty("ReverseProxy").GetProperty("Clusters").GetProperty("onlinescorer-grpc");
        Assert.Equal("2", cluster.GetProperty("HttpRequest").GetProperty("Version").GetString());
        Assert.Equal("RequestVersionExact", cluster.GetProperty("HttpRequest").GetProperty("VersionPolicy").GetString());
        Assert.Equal("http://_grpc.onlinescorer", cluster.GetProperty("Destinations").GetProperty("d1").GetProperty("Address").GetString());
    }

    [Fact]
    public void DefaultLimitsAreTheDocumentedOnes()
    {
        var bodies = new BodySizeLimitOptions();
        Assert.Equal(32L << 20, bodies.Inference);
        Assert.Equal(1L << 30, bodies.Upload);
        Assert.Equal(4L << 30, bodies.Batch);
        Assert.Equal(1L << 30, bodies.Stream);
        Assert.Equal(TimeSpan.FromMinutes(10), new TimeoutOptions().Stream);
        Assert.Equal(1L << 20, bodies.Default);
        Assert.Null(bodies.For("huge"));
        Assert.Equal(TimeSpan.FromSeconds(30), new TimeoutOptions().Inference);
    }

    private static JsonElement LoadRoutes()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "gateway.appsettings.json")));
        return json.RootElement.GetProperty("ReverseProxy").GetProperty("Routes").Clone();
    }
}
