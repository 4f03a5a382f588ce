using System.Text.Json;

namespace MlPlatform.DeploymentTests;

/// <summary>Runs the AppHost in publish mode once, exactly as docs/deployment.md and cd.yml do, and reads the manifest it writes.</summary>
public sealed class AspireManifestFixture : IAsyncLifetime
{
    private readonly string _outputDir = Path.Combine(Path.GetTempPath(), "mlplatform-manifest-tests", Guid.NewGuid().ToString("N"));
    private JsonDocument? _manifest;

    public JsonElement Resources => (_manifest ?? throw new InvalidOperationException("No manifest.")).RootElement.GetProperty("resources");

    public JsonElement Resource(string name) => Resources.GetProperty(name);

    public IEnumerable<(string Name, JsonElement Resource)> ResourcesOfType(string type) =>
        Resources.EnumerateObject().Where(r => r.Value.TryGetProperty("type", out var t) && t.GetString() == type).Select(r => (r.Name, r.Value));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_outputDir);
        var path = Path.Combine(_outputDir, "aspire-manifest.json");
        await Repository.RunAsync("dotnet",
            ["run", "--no-build", "--project", Repository.PathOf("AppHost", "AppHost.csproj"), "--", "--publisher", "manifest", "--output-path", path]);
        _manifest = JsonDocument.Parse(await File.ReadAllTextAsync(path));
    }

    public Task DisposeAsync()
    {
        _manifest?.Dispose();
        Directory.Delete(_outputDir, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class AspireManifestTests(AspireManifestFixture manifest) : IClassFixture<AspireManifestFixture>
{
    private static readonly string[] Projects = [.. Repository.Services.Select(s => s.ToLowerInvariant())];

    [Fact]
    public void ManifestDeclaresRedisAndTheFourServices()
    {
        Assert.Equal("container.v0", manifest.Resource("redis").GetProperty("type").GetString());
        foreach (var service in Repository.Services)
        {
            var resource = manifest.Resource(service.ToLowerInvariant());
            Assert.Equal("project.v0", resource.GetProperty("type").GetString());
            Assert.EndsWith($"{service}/{service}.csproj", resource.GetProperty("path").GetString());
        }
    }

    [Fact]
    public void OnlyTheGatewayHasAnExternalEndpoint()
    {
        var external = manifest.Resources.EnumerateObject()
            .Where(r => r.Value.TryGetProperty("bindings", out var bindings) &&
                        bindings.EnumerateObject().Any(b => b.Value.TryGetProperty("external", out var e) && e.GetBoolean()))
            .Select(r => r.Name)
            .ToList();

        Assert.Equal(["gateway"], external);
    }

    [Fact]
    public void EveryServiceServesPlainHttpOnTheImagePortAndTheScorerAndGatewayGrpcOnTheNext()
    {
        foreach (var project in Projects)
        {
            var bindings = manifest.Resource(project).GetProperty("bindings");
            var http = bindings.GetProperty("http");
            Assert.Equal("http", http.GetProperty("scheme").GetString());
            Assert.Equal(8080, http.GetProperty("targetPort").GetInt32());
            if (project is "onlinescorer" or "gateway")
            {
                Assert.Equal(["grpc", "http"], bindings.EnumerateObject().Select(b => b.Name).Order());
                var grpc = bindings.GetProperty("grpc");
                Assert.Equal(("http", "http2", 8081), (grpc.GetProperty("scheme").GetString(), grpc.GetProperty("transport").GetString(), grpc.GetProperty("targetPort").GetInt32()));
                // Kestrel serves each port with its protocols from configuration (cleartext HTTP/2 needs an endpoint of its own).
                var env = manifest.Resource(project).GetProperty("env");
                Assert.Equal("Http2", env.GetProperty("Kestrel__Endpoints__grpc__Protocols").GetString());
                Assert.Equal("http://*:{" + project + ".bindings.grpc.targetPort}", env.GetProperty("Kestrel__Endpoints__grpc__Url").GetString());
                Assert.Equal("http://*:{" + project + ".bindings.http.targetPort}", env.GetProperty("Kestrel__Endpoints__http__Url").GetString());
            }
            else
            {
                Assert.Equal("http", Assert.Single(bindings.EnumerateObject()).Name);
            }
        }
    }

    [Fact]
    public void PasswordAndKeyParametersAreSecretsWithoutDefaultValuesInTheManifest()
    {
        var credentials = manifest.ResourcesOfType("parameter.v0")
            .Where(p => p.Name.Contains("password", StringComparison.Ordinal) || p.Name.EndsWith("-key", StringComparison.Ordinal))
            .ToList();

        // The gateway's admin key and the services' internal credential always exist; operator and reader keys when configured.
        Assert.Contains(credentials, p => p.Name == "redis-password");
        Assert.Contains(credentials, p => p.Name == "admin-api-key");
        Assert.Contains(credentials, p => p.Name == "internal-api-key");
        foreach (var (name, parameter) in credentials)
        {
            var input = parameter.GetProperty("inputs").GetProperty("value");
            Assert.True(input.TryGetProperty("secret", out var secret) && secret.GetBoolean(), $"{name} is not a secret.");
            // Either asked for at deploy time or generated there; never a literal value written into the manifest.
            Assert.False(input.TryGetProperty("default", out var d) && d.TryGetProperty("value", out _), $"{name} has a literal default.");
        }
    }

    [Fact]
    public void ServicesReceiveTheRedisPasswordOnlyByParameterReference()
    {
        foreach (var project in Projects.Where(p => p != "gateway"))
        {
            var env = manifest.Resource(project).GetProperty("env");
            Assert.Equal("{redis-password.value}", env.GetProperty("REDIS_PASSWORD").GetString());
            Assert.Equal("{redis.connectionString}", env.GetProperty("ConnectionStrings__redis").GetString());
        }
    }

    [Theory]
    [InlineData("modelregistry", "modelregistry-data", "/var/lib/mlplatform/registry")]
    [InlineData("batchscorer", "batchscorer-data", "/var/lib/mlplatform/batch")]
    [InlineData("onlinescorer", "onlinescorer-data", "/var/lib/mlplatform/onlinescorer")]
    public void ServiceDataFolderIsANamedVolumeItsStorageSettingPointsAt(string project, string volumeName, string target)
    {
        var resource = manifest.Resource(project);

        var volume = Assert.Single(resource.GetProperty("volumes").EnumerateArray());
        Assert.Equal(volumeName, volume.GetProperty("name").GetString());
        Assert.Equal(target, volume.GetProperty("target").GetString());
        Assert.False(volume.GetProperty("readOnly").GetBoolean());
        Assert.Equal(target, resource.GetProperty("env").GetProperty("Storage__DataDir").GetString());
    }

    [Fact]
    public void RedisKeepsItsDataOnAVolumeWithTheAppendOnlyFileOn()
    {
        var redis = manifest.Resource("redis");

        var volume = Assert.Single(redis.GetProperty("volumes").EnumerateArray());
        Assert.Equal("/data", volume.GetProperty("target").GetString());
        var command = string.Join(' ', redis.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        Assert.Contains("--appendonly yes --appendfsync everysec", command);
        Assert.Contains("--requirepass $REDIS_PASSWORD", command);
    }

    [Fact]
    public void ReplicaCountsComeFromThePlatformSettings()
    {
        Assert.Equal(2, manifest.Resource("batchscorer").GetProperty("replicas").GetInt32());
        foreach (var project in Projects.Where(p => p != "batchscorer"))
        {
            Assert.Equal(1, manifest.Resource(project).GetProperty("replicas").GetInt32());
        }
    }

    [Fact]
    public void EveryServiceReceivesTheInternalCredentialAndTheGatewayTheAdminKeyByReference()
    {
        foreach (var project in Projects)
        {
            Assert.Equal("{internal-api-key.value}", manifest.Resource(project).GetProperty("env").GetProperty("InternalCredential__Key").GetString());
        }
        var gateway = manifest.Resource("gateway").GetProperty("env");
        Assert.Equal("admin", gateway.GetProperty("ApiKeys__Keys__admin__Role").GetString());
        Assert.Equal("{admin-api-key.value}", gateway.GetProperty("ApiKeys__Keys__admin__Key").GetString());
    }

    [Fact]
    public async Task BatchScorerReplicaCountFollowsThePlatformSettingAtPublishTime()
    {
        var path = Path.Combine(Path.GetTempPath(), "mlplatform-manifest-tests", $"{Guid.NewGuid():N}.json");
        try
        {
            await Repository.RunAsync("dotnet",
            [
                "run", "--no-build", "--project", Repository.PathOf("AppHost", "AppHost.csproj"), "--",
                "--publisher", "manifest", "--output-path", path, "Platform:BatchScorerReplicas=5",
            ]);

            using var published = JsonDocument.Parse(await File.ReadAllTextAsync(path));
            Assert.Equal(5, published.RootElement.GetProperty("resources").GetProperty("batchscorer").GetProperty("replicas").GetInt32());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void GatewayFindsTheServicesThroughServiceDiscovery()
    {
        var env = manifest.Resource("gateway").GetProperty("env");

        foreach (var project in Projects.Where(p => p != "gateway"))
        {
            Assert.Equal($"{{{project}.bindings.http.url}}", env.GetProperty($"services__{project}__http__0").GetString());
        }
        Assert.Equal("{onlinescorer.bindings.grpc.url}", env.GetProperty("services__onlinescorer__grpc__0").GetString());
    }
}
