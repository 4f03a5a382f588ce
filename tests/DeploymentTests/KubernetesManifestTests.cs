using System.Text.Json;
using Microsoft.Extensions.Hosting;
using YamlDotNet.RepresentationModel;

namespace MlPlatform.DeploymentTests;

/// <summary>Every file under deploy/kubernetes parsed, and the rules an operator relies on checked across them.</summary>
public sealed class KubernetesManifestTests
{
    private static readonly string KubernetesDir = Repository.PathOf("deploy", "kubernetes");
    private static readonly string BaseDir = Path.Combine(KubernetesDir, "base");
    private static readonly string ProductionDir = Path.Combine(KubernetesDir, "overlays", "production");
    private const int PreStopSleepSeconds = 5;

    /// <summary>The objects of the base, from the files its kustomization lists.</summary>
    private static readonly IReadOnlyList<YamlMappingNode> Objects = LoadBase();

    private static IReadOnlyList<YamlMappingNode> LoadBase()
    {
        var kustomization = Yaml.LoadFile(Path.Combine(BaseDir, "kustomization.yaml")).Single();
        return kustomization.Items("resources").Cast<YamlScalarNode>()
            .SelectMany(r => Yaml.LoadFile(Path.Combine(BaseDir, r.Value!)))
            .ToList();
    }

    private static IEnumerable<YamlMappingNode> Workloads => Objects.Where(o => o.Kind() is "Deployment" or "StatefulSet");

    private static IEnumerable<(YamlMappingNode Workload, YamlNode Container)> Containers =>
        Workloads.SelectMany(w => w.Items("spec.template.spec.containers").Select(c => (w, c)));

    private static YamlMappingNode Workload(string name) => Workloads.Single(w => w.Name() == name);

    private static YamlNode Container(string name) => Workload(name).Items("spec.template.spec.containers").Single();

    private static string? Env(YamlNode container, string name) =>
        container.Items("env").Where(e => e.Text("name") == name).Select(e => e.Text("value")).SingleOrDefault();

    [Fact]
    public void EveryYamlFileParsesAndEveryObjectHasKindAndName()
    {
        var files = Directory.EnumerateFiles(KubernetesDir, "*.yaml", SearchOption.AllDirectories).ToList();

        Assert.NotEmpty(files);
        foreach (var file in files.Where(f => Path.GetFileName(f) is not ("kustomization.yaml" or "ingress-host.yaml" or "ingress-grpc-host.yaml")))
        {
            var documents = Yaml.LoadFile(file);
            Assert.NotEmpty(documents);
            Assert.All(documents, d =>
            {
                Assert.False(string.IsNullOrEmpty(d.Text("apiVersion")), $"{file}: an object without apiVersion.");
                Assert.False(string.IsNullOrEmpty(d.Kind()), $"{file}: an object without kind.");
                Assert.False(string.IsNullOrEmpty(d.Name()), $"{file}: an object without metadata.name.");
            });
        }
    }

    [Fact]
    public void EveryFileAKustomizationNamesExists()
    {
        foreach (var file in Directory.EnumerateFiles(KubernetesDir, "kustomization.yaml", SearchOption.AllDirectories))
        {
            var kustomization = Yaml.LoadFile(file).Single();
            var dir = Path.GetDirectoryName(file)!;
            var referenced = kustomization.Items("resources").Concat(kustomization.Items("patches").Select(p => p.At("path")!))
                .Cast<YamlScalarNode>().Select(n => Path.GetFullPath(Path.Combine(dir, n.Value!)));
            Assert.All(referenced, path => Assert.True(File.Exists(path) || Directory.Exists(path), $"{file} names {path}, which does not exist."));
        }
    }

    [Fact]
    public void EveryContainerHasRequestsLimitsAndBothProbes()
    {
        Assert.NotEmpty(Containers);
        foreach (var (workload, container) in Containers)
        {
            var where = $"{workload.Name()}/{container.Text("name")}";
            foreach (var resource in new[] { "cpu", "memory" })
            {
                Assert.False(string.IsNullOrEmpty(container.Text($"resources.requests.{resource}")), $"{where}: no {resource} request.");
                Assert.False(string.IsNullOrEmpty(container.Text($"resources.limits.{resource}")), $"{where}: no {resource} limit.");
            }
            Assert.True(container.At("livenessProbe") is YamlMappingNode, $"{where}: no liveness probe.");
            Assert.True(container.At("readinessProbe") is YamlMappingNode, $"{where}: no readiness probe.");
        }
    }

    [Fact]
    public void PlatformServicesProbeAliveForLivenessAndHealthForReadiness()
    {
        foreach (var service in Repository.Services)
        {
            var container = Container(service.ToLowerInvariant());
            Assert.Equal("/alive", container.Text("livenessProbe.httpGet.path"));
            Assert.Equal("/health", container.Text("readinessProbe.httpGet.path"));
            Assert.Equal("http", container.Text("readinessProbe.httpGet.port"));
            var ports = container.Items("ports").ToDictionary(p => p.Text("name")!, p => p.Text("containerPort"));
            Assert.Equal("8080", ports["http"]);
            // The online scorer and the gateway also serve gRPC (h2c) on 8081, configured as Kestrel endpoints.
            Assert.Equal(service is "OnlineScorer" or "Gateway" ? ["grpc", "http"] : ["http"], ports.Keys.Order());
            if (ports.ContainsKey("grpc"))
            {
                Assert.Equal("8081", ports["grpc"]);
                Assert.Equal("http://*:8081", Env(container, "Kestrel__Endpoints__grpc__Url"));
                Assert.Equal("Http2", Env(container, "Kestrel__Endpoints__grpc__Protocols"));
                Assert.Equal("http://*:8080", Env(container, "Kestrel__Endpoints__http__Url"));
            }
        }
    }

    [Fact]
    public async Task PlatformImagesAreTheRepositoriesTheBuildPublishes()
    {
        var published = new List<string>();
        foreach (var service in Repository.Services)
        {
            published.Add((await ContainerConfig.ComputeAsync(service)).Properties["ContainerRepository"]);
        }

        var images = Containers.Select(c => c.Container.Text("image")!).Where(i => i.StartsWith("mlplatform/", StringComparison.Ordinal));
        Assert.Equal(published.Order(), images.Order());
        foreach (var dir in new[] { BaseDir, ProductionDir })
        {
            var kustomization = Yaml.LoadFile(Path.Combine(dir, "kustomization.yaml")).Single();
            Assert.Equal(published.Order(), kustomization.Items("images").Select(i => i.Text("name")!).Order());
        }
    }

    [Fact]
    public void PlatformContainersRunAsTheImageUserWithoutPrivileges()
    {
        foreach (var service in Repository.Services)
        {
            var workload = Workload(service.ToLowerInvariant());
            var container = Container(service.ToLowerInvariant());
            Assert.Equal("true", workload.Text("spec.template.spec.securityContext.runAsNonRoot"));
            Assert.Equal(ContainerConfig.AppUser, workload.Text("spec.template.spec.securityContext.runAsUser"));
            Assert.Equal("false", container.Text("securityContext.allowPrivilegeEscalation"));
            Assert.Equal("true", container.Text("securityContext.readOnlyRootFilesystem"));
        }
    }

    [Fact]
    public void OnlyTheGatewayIsReachableFromOutsideAndOnlyThroughTheIngress()
    {
        var services = Objects.Where(o => o.Kind() == "Service").ToList();
        Assert.All(services, s => Assert.True(s.Text("spec.type") is null or "ClusterIP", $"Service {s.Name()} is {s.Text("spec.type")}."));

        // One Ingress for REST, one (backend protocol GRPC, its own host) for the gateway's gRPC port.
        var ingresses = Objects.Where(o => o.Kind() == "Ingress").ToList();
        Assert.Equal(["gateway", "gateway-grpc"], ingresses.Select(i => i.Name()).Order());
        foreach (var ingress in ingresses)
        {
            var backends = ingress.Items("spec.rules").SelectMany(r => r.Items("http.paths")).Select(p => p.Text("backend.service.name")).ToList();
            Assert.NotEmpty(backends);
            Assert.All(backends, b => Assert.Equal("gateway", b));
            Assert.Null(ingress.At("spec.defaultBackend"));
        }
        var grpc = ingresses.Single(i => i.Name() == "gateway-grpc");
        Assert.Equal("GRPC", (grpc.At("metadata.annotations")?.Get("nginx.ingress.kubernetes.io/backend-protocol") as YamlScalarNode)?.Value);
        Assert.Equal("grpc", grpc.Items("spec.rules").SelectMany(r => r.Items("http.paths")).Single().Text("backend.service.port.name"));
    }

    [Fact]
    public void HorizontalPodAutoscalersScaleTheTwoScorersFromAtLeastTwoReplicas()
    {
        var autoscalers = Objects.Where(o => o.Kind() == "HorizontalPodAutoscaler").ToList();

        Assert.Equal(["batchscorer", "onlinescorer"], autoscalers.Select(h => h.Text("spec.scaleTargetRef.name")).Order());
        Assert.All(autoscalers, h =>
        {
            Assert.Equal("Deployment", h.Text("spec.scaleTargetRef.kind"));
            Assert.True(int.Parse(h.Text("spec.minReplicas")!) >= 2);
            Assert.True(int.Parse(h.Text("spec.maxReplicas")!) > int.Parse(h.Text("spec.minReplicas")!));
        });
    }

    [Fact]
    public void DisruptionBudgetsSelectExistingMultiReplicaWorkloads()
    {
        var budgets = Objects.Where(o => o.Kind() == "PodDisruptionBudget").ToList();

        Assert.NotEmpty(budgets);
        foreach (var budget in budgets)
        {
            // matchLabels keys hold dots (app.kubernetes.io/name), so they are read directly rather than by dotted path.
            var name = budget.At("spec.selector.matchLabels")!.Get("app.kubernetes.io/name")!.ToString();
            var workload = Workload(name);
            Assert.True(workload.Kind() == "Deployment" && int.Parse(workload.Text("spec.replicas")!) >= 2,
                $"PodDisruptionBudget {budget.Name()} guards {name}, which cannot keep a pod up while another is evicted.");
        }
    }

    [Fact]
    public void RegistryIsOneStatefulReplicaWithItsDataFolderOnAClaimedVolume()
    {
        var registry = Workload("modelregistry");

        Assert.Equal("StatefulSet", registry.Kind());
        Assert.Equal("1", registry.Text("spec.replicas"));
        var claim = Assert.Single(registry.Items("spec.volumeClaimTemplates"));
        var mount = Container("modelregistry").Items("volumeMounts").Single(m => m.Text("name") == claim.Text("metadata.name"));
        Assert.Equal(Env(Container("modelregistry"), "Storage__DataDir"), mount.Text("mountPath"));
    }

    [Fact]
    public void RedisPersistsWithTheAppendOnlyFileOnAClaimedVolume()
    {
        var redis = Workload("redis");
        var args = Container("redis").Items("args").Select(a => ((YamlScalarNode)a).Value).ToList();

        Assert.Equal("StatefulSet", redis.Kind());
        Assert.Single(redis.Items("spec.volumeClaimTemplates"));
        Assert.Equal("yes", args[args.IndexOf("--appendonly") + 1]);
        Assert.Equal("noeviction", args[args.IndexOf("--maxmemory-policy") + 1]);
    }

    [Fact]
    public void EverySecretReferenceNamesAKeyOfThePlatformSecret()
    {
        var exampleKeys = File.ReadAllLines(Path.Combine(ProductionDir, "secrets.env.example"))
            .Where(l => !l.StartsWith('#') && l.Contains('='))
            .Select(l => l[..l.IndexOf('=')])
            .ToHashSet();
        var references = Containers.SelectMany(c => c.Container.Items("env")).Select(e => e.At("valueFrom.secretKeyRef")).OfType<YamlMappingNode>().ToList();

        Assert.NotEmpty(references);
        Assert.All(references, r =>
        {
            Assert.Equal("mlplatform-secrets", r.Text("name"));
            Assert.Contains(r.Text("key")!, exampleKeys);
        });
        Assert.Equal(exampleKeys.Order(), references.Select(r => r.Text("key")!).Distinct().Order());
    }

    [Fact]
    public void OnlyTheServicesThatUseRedisReceiveItsPassword()
    {
        var withPassword = Containers.Where(c => c.Container.Items("env").Any(e => e.Text("valueFrom.secretKeyRef.key") == "redis-password"))
            .Select(c => c.Workload.Name()).Order();

        Assert.Equal(["batchscorer", "modelregistry", "onlinescorer", "redis", "redis-cache"], withPassword);
    }

    [Theory]
    [InlineData("redis", "noeviction")]
    [InlineData("redis-cache", "allkeys-lru")]
    public async Task RenderedRedisBoundsItsMemoryBelowItsContainerLimitWithItsEvictionPolicy(string workload, string policy)
    {
        var rendered = Yaml.LoadDocuments(await Repository.RunAsync("kubectl", ["kustomize", BaseDir]));
        var container = rendered.Single(o => o.Kind() is "Deployment" or "StatefulSet" && o.Name() == workload)
            .Items("spec.template.spec.containers").Single();
        var args = container.Items("args").Select(a => ((YamlScalarNode)a).Value!).ToList();

        var maxMemory = RedisBytes(args[args.IndexOf("--maxmemory") + 1]);
        var limit = KubernetesBytes(container.Text("resources.limits.memory")!);
        Assert.Equal(policy, args[args.IndexOf("--maxmemory-policy") + 1]);
        Assert.InRange(maxMemory, 1, limit * 4 / 5);
    }

    [Fact]
    public void OnlyTheOnlineScorerReachesTheResponseCache()
    {
        var users = Containers.Where(c => c.Container.Items("env").Any(e => e.Text("name") == "ConnectionStrings__redis-cache")).Select(c => c.Workload.Name());

        Assert.Equal(["onlinescorer"], users);
        Assert.StartsWith("redis-cache:6379,", Env(Container("onlinescorer"), "ConnectionStrings__redis-cache"));
    }

    private static long RedisBytes(string value) => value.ToLowerInvariant() switch
    {
        var v when v.EndsWith("gb", StringComparison.Ordinal) => long.Parse(v[..^2], System.Globalization.CultureInfo.InvariantCulture) << 30,
        var v when v.EndsWith("mb", StringComparison.Ordinal) => long.Parse(v[..^2], System.Globalization.CultureInfo.InvariantCulture) << 20,
        var v => long.Parse(v, System.Globalization.CultureInfo.InvariantCulture),
    };

    private static long KubernetesBytes(string value) => value switch
    {
        var v when v.EndsWith("Gi", StringComparison.Ordinal) => long.Parse(v[..^2], System.Globalization.CultureInfo.InvariantCulture) << 30,
        var v when v.EndsWith("Mi", StringComparison.Ordinal) => long.Parse(v[..^2], System.Globalization.CultureInfo.InvariantCulture) << 20,
        var v => long.Parse(v, System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public void TerminationGracePeriodCoversEachServicesShutdownTimeoutTelemetryFlushAndPreStopPause()
    {
        foreach (var service in Repository.Services)
        {
            using var settings = JsonDocument.Parse(File.ReadAllText(Repository.PathOf(service, "appsettings.json")));
            var shutdown = TimeSpan.Parse(settings.RootElement.GetProperty("HostOptions").GetProperty("ShutdownTimeout").GetString()!);
            // After the drain the exporters may flush for this long (an unreachable collector takes all of it).
            var flush = settings.RootElement.TryGetProperty(TelemetryOptions.SectionName, out var telemetry)
                ? telemetry.GetProperty(nameof(TelemetryOptions.ShutdownFlushSeconds)).GetInt32()
                : new TelemetryOptions().ShutdownFlushSeconds;
            var workload = Workload(service.ToLowerInvariant());
            var grace = int.Parse(workload.Text("spec.template.spec.terminationGracePeriodSeconds")!);
            var preStop = int.Parse(Container(service.ToLowerInvariant()).Text("lifecycle.preStop.sleep.seconds")!);

            Assert.Equal(PreStopSleepSeconds, preStop);
            Assert.True(grace >= shutdown.TotalSeconds + flush + preStop + 5,
                $"{service}: {grace} s of grace for a {shutdown.TotalSeconds} s shutdown and a {flush} s telemetry flush after a {preStop} s pause.");
        }
    }

    [Fact]
    public void BatchScorersNeedMoreTimeToStopThanTheOnlineScorers()
    {
        static TimeSpan ShutdownOf(string service)
        {
            using var settings = JsonDocument.Parse(File.ReadAllText(Repository.PathOf(service, "appsettings.json")));
            return TimeSpan.Parse(settings.RootElement.GetProperty("HostOptions").GetProperty("ShutdownTimeout").GetString()!);
        }

        Assert.True(ShutdownOf("BatchScorer") > ShutdownOf("OnlineScorer"));
    }

    [Fact]
    public async Task ProductionOverlayRendersWithItsSecretReferencedByHashedName()
    {
        // Rendered from a copy, with the secrets.env CD writes, so the working tree never holds one.
        var copy = Path.Combine(Path.GetTempPath(), "mlplatform-kustomize-tests", Guid.NewGuid().ToString("N"));
        CopyDirectory(KubernetesDir, copy);
        try
        {
            var overlay = Path.Combine(copy, "overlays", "production");
            var keys = File.ReadAllLines(Path.Combine(overlay, "secrets.env.example")).Where(l => !l.StartsWith('#') && l.Contains('='));
            await File.WriteAllLinesAsync(Path.Combine(overlay, "secrets.env"), keys.Select(k => $"{k}{Guid.NewGuid():N}"));

            var rendered = Yaml.LoadDocuments(await Repository.RunAsync("kubectl", ["kustomize", overlay]));

            var secret = Assert.Single(rendered, o => o.Kind() == "Secret");
            Assert.StartsWith("mlplatform-secrets-", secret.Name());
            Assert.All(rendered.Where(o => o.Kind() != "Namespace"), o => Assert.Equal("mlplatform", o.Text("metadata.namespace")));
            var references = rendered.Where(o => o.Kind() is "Deployment" or "StatefulSet")
                .SelectMany(w => w.Items("spec.template.spec.containers")).SelectMany(c => c.Items("env"))
                .Select(e => e.Text("valueFrom.secretKeyRef.name")).OfType<string>().Distinct();
            Assert.Equal([secret.Name()], references);
            var images = rendered.Where(o => o.Kind() is "Deployment" or "StatefulSet")
                .SelectMany(w => w.Items("spec.template.spec.containers")).Select(c => c.Text("image")!).Where(i => i.Contains("/mlplatform/"));
            Assert.All(images, i => Assert.Matches(@"^registry\.example\.com/mlplatform/[a-z]+:0\.1\.0$", i));
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var dir in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(source, target, StringComparison.Ordinal));
        }
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "secrets.env"))
        {
            File.Copy(file, file.Replace(source, target, StringComparison.Ordinal));
        }
    }
}
