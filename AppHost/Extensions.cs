using System.Diagnostics;
using Aspire.Hosting.Publishing;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MlPlatform.AppHost;

internal static class Extensions
{
    /// <summary>
    /// The platform's data folder: <c>Platform:DataDir</c> when set, else <c>.data/</c> at the repository root.
    /// Publish mode uses a fixed path inside the container, backed by a volume.
    /// </summary>
    public static string GetDataDirectory(this IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return "/var/lib/mlplatform";
        }

        var configured = builder.Configuration["Platform:DataDir"];
        var dir = string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(builder.AppHostDirectory, "..", ".data")
            : configured;
        dir = Path.GetFullPath(dir);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// Gives a service its own sub-folder of the data folder as <c>Storage__DataDir</c>.
    /// Publish mode mounts a volume named <c>&lt;resource&gt;-data</c> there instead, because a container's own file system dies with it.
    /// </summary>
    public static IResourceBuilder<T> WithDataDirectory<T>(this IResourceBuilder<T> builder, string dataDir, string subFolder)
        where T : IResourceWithEnvironment, IComputeResource
    {
        var path = Path.Combine(dataDir, subFolder);
        if (builder.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            return builder.WithVolume($"{builder.Resource.Name}-data", path, "Storage__DataDir");
        }
        Directory.CreateDirectory(path);
        return builder.WithEnvironment("Storage__DataDir", path);
    }

    /// <summary>The port the SDK-built images listen on (<c>ContainerPort</c> in Directory.Build.props, ASPNETCORE_HTTP_PORTS of the base image).</summary>
    public const int ContainerHttpPort = 8080;

    /// <summary>
    /// Publish mode only: shapes every project for containers. Each serves plain HTTP on <see cref="ContainerHttpPort"/> (TLS ends at the
    /// ingress in front of the gateway, so the https endpoints Aspire adds by default are dropped), and its manifest entry also carries
    /// its data volumes and replica count, which the standard <c>project.v0</c> entry leaves out.
    /// </summary>
    public static void PublishProjectsAsContainers(this IDistributedApplicationBuilder builder)
    {
        if (!builder.ExecutionContext.IsPublishMode)
        {
            return;
        }

        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            foreach (var https in project.Annotations.OfType<EndpointAnnotation>().Where(e => e.UriScheme == "https").ToList())
            {
                project.Annotations.Remove(https);
            }
            builder.CreateResourceBuilder(project)
                .WithEndpoint("http", e => e.TargetPort = ContainerHttpPort)
                .WithManifestPublishingCallback(context => WriteProjectManifestAsync(context, project));
        }
    }

    private static async Task WriteProjectManifestAsync(ManifestPublishingContext context, ProjectResource project)
    {
        var writer = context.Writer;
        writer.WriteString("type", "project.v0");
        writer.WriteString("path", context.GetManifestRelativePath(project.GetProjectMetadata().ProjectPath));
        await context.WriteCommandLineArgumentsAsync(project);
        await context.WriteEnvironmentVariablesAsync(project);
        context.WriteBindings(project);

        var volumes = project.Annotations.OfType<ContainerMountAnnotation>().Where(m => m.Type == ContainerMountType.Volume).ToList();
        if (volumes.Count > 0)
        {
            writer.WriteStartArray("volumes");
            foreach (var volume in volumes)
            {
                writer.WriteStartObject();
                writer.WriteString("name", volume.Source);
                writer.WriteString("target", volume.Target);
                writer.WriteBoolean("readOnly", volume.IsReadOnly);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }

        writer.WriteNumber("replicas", project.TryGetLastAnnotation<ReplicaAnnotation>(out var replicas) ? replicas.Replicas : 1);
    }

    /// <summary>
    /// Passes every setting under <paramref name="section"/> of the AppHost's configuration to the resource as its own configuration
    /// (<c>Gateway:RateLimits:Reader:TokenLimit=5</c> becomes the gateway's <c>RateLimits:Reader:TokenLimit</c>), so limits can be set from one place.
    /// </summary>
    public static IResourceBuilder<T> WithSettingsFrom<T>(this IResourceBuilder<T> builder, IConfigurationSection section)
        where T : IResourceWithEnvironment
    {
        foreach (var (key, value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is not null)
            {
                builder.WithEnvironment(key.Replace(":", "__", StringComparison.Ordinal), value);
            }
        }
        return builder;
    }

    /// <summary>
    /// In run mode, has the registry register <c>models/iris.onnx</c> as <c>iris</c> with the <c>production</c> alias at its first start,
    /// through its ordinary upload path, so a new user can call inference right away. <c>Platform:DemoModel=false</c> turns it off.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDemoModel(this IResourceBuilder<ProjectResource> builder, bool enabled)
    {
        if (!enabled || builder.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            return builder;
        }
        var path = Path.GetFullPath(Path.Combine(builder.ApplicationBuilder.AppHostDirectory, "..", "models", "iris.onnx"));
        return builder
            .WithEnvironment("Seed__ModelPath", path)
            .WithEnvironment("Seed__ModelName", "iris")
            .WithEnvironment("Seed__Alias", AliasNames.Production);
    }

    /// <summary>
    /// Binds the gateway straight to a fixed host port (8000 by default, the port Triton/KServe clients expect).
    /// A port of 0 picks a free port (tests run beside a developer's platform).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithGatewayPort(this IResourceBuilder<ProjectResource> builder, int port)
    {
        if (builder.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            return builder;
        }
        // Port 0 still binds the gateway directly (on a free port), as in production, so tests and benchmarks measure the same path.
        return builder.WithUnproxiedHttpEndpoint(port);
    }

    /// <summary>
    /// Run mode: the resource's http endpoint is served by the process itself, without DCP's proxy in front, on <paramref name="port"/>
    /// or, for 0, a free loopback port picked now (so parallel app hosts, tests and benchmarks do not collide). This removes a
    /// loopback hop and a byte-copying process from every request; only for single-replica resources (the proxy is what spreads replicas).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithUnproxiedHttpEndpoint(this IResourceBuilder<ProjectResource> builder, int port = 0)
    {
        if (builder.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            return builder;
        }
        if (port <= 0)
        {
            port = FreeLoopbackPort();
        }
        return builder.WithEndpoint("http", e =>
        {
            e.Port = port;
            e.TargetPort = port;
            e.IsProxied = false;
        });
    }

    /// <summary>Every port <see cref="FreeLoopbackPort"/> has handed out in this process.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> HandedOutPorts = new();

    /// <summary>
    /// A free loopback port, picked now (the resource then binds it directly, seconds later). Never the same port twice in one process:
    /// the test host starts several app hosts at once, and the kernel may hand a port that one of them has probed and released, but
    /// not bound yet, to another one's probe; two resources then fight for it and one of them cannot start.
    /// </summary>
    internal static int FreeLoopbackPort()
    {
        while (true)
        {
            using var probe = new TcpListener(System.Net.IPAddress.Loopback, 0);
            probe.Start();
            var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            if (HandedOutPorts.TryAdd(port, 0))
            {
                return port;
            }
        }
    }

    /// <summary>
    /// Redis under the connection name <paramref name="name"/>: the container where a container runtime answers (always in publish mode),
    /// else the machine's <c>redis-server</c>. <c>Redis:Mode</c> (auto|container|local) forces the choice. The <see cref="RedisRole.State"/>
    /// Redis (queues, job state, leader lock) keeps an append-only file and refuses writes at <c>Redis:MaxMemory</c> (noeviction);
    /// the <see cref="RedisRole.Cache"/> Redis (the response cache) keeps nothing on disk and evicts at <c>Redis:CacheMaxMemory</c> (allkeys-lru),
    /// so filling the cache can never evict or block a queue or job key.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddPlatformRedis(
        this IDistributedApplicationBuilder builder, string name, string dataDir, RedisRole role = RedisRole.State)
    {
        var mode = builder.Configuration["Redis:Mode"]?.Trim().ToLowerInvariant() ?? "auto";
        if (mode is not ("auto" or "container" or "local"))
        {
            throw new DistributedApplicationException($"Redis:Mode must be 'auto', 'container' or 'local', not '{mode}'.");
        }
        string[] serverArgs = role == RedisRole.State
            ? ["--maxmemory", builder.Configuration["Redis:MaxMemory"] ?? "1gb", "--maxmemory-policy", "noeviction"]
            : ["--maxmemory", builder.Configuration["Redis:CacheMaxMemory"] ?? "256mb", "--maxmemory-policy", "allkeys-lru", "--save", "", "--appendonly", "no"];

        IResourceBuilder<IResourceWithConnectionString> Container() => role == RedisRole.State
            ? builder.AddRedis(name).WithDataVolume().WithPersistence().WithAppendOnlyFile().WithServerArgs(serverArgs)
            : builder.AddRedis(name).WithServerArgs(serverArgs);

        if (builder.ExecutionContext.IsPublishMode || mode == "container")
        {
            return Container();
        }

        var serverCommand = builder.Configuration["Redis:ServerPath"] ?? "redis-server";
        var redisServer = FindOnPath(serverCommand);
        var runtime = builder.Configuration["ASPIRE_CONTAINER_RUNTIME"] ?? "docker";
        if (mode == "auto" && ContainerRuntimeAnswers(runtime))
        {
            return Container();
        }

        if (redisServer is null)
        {
            // Names what was actually tried, so a wrong Redis:ServerPath or a forced local mode is not mistaken for a missing install.
            var noContainer = mode == "local" ? "Redis:Mode=local rules out a container" : $"no container runtime answers ('{runtime} info' failed)";
            var noServer = Path.IsPathRooted(serverCommand)
                ? $"'{serverCommand}' (Redis:ServerPath) does not exist"
                : $"'{serverCommand}' is not on PATH";
            throw new DistributedApplicationException(
                $"Redis is required and none can be started: {noContainer} and {noServer}. " +
                "Fix one of: start a container runtime (Docker or Podman), or install Redis locally " +
                "('sudo apt-get install -y redis-server'). Set Redis:Mode=container|local to force a choice.");
        }

        string[] persistence = role == RedisRole.State ? ["--appendonly", "yes", "--appendfsync", "everysec"] : [];
        return builder.AddLocalRedis(name, redisServer, Path.Combine(dataDir, name), [.. persistence, .. serverArgs]);
    }

    /// <summary>
    /// Turns on the append-only file (fsync every second) beside the snapshots, as the local redis-server has it: batch jobs and
    /// their chunks live in Redis, and a snapshot alone would lose up to a minute of accepted work.
    /// </summary>
    private static IResourceBuilder<RedisResource> WithAppendOnlyFile(this IResourceBuilder<RedisResource> builder) =>
        builder.WithServerArgs(["--appendonly", "yes", "--appendfsync", "everysec"]);

    /// <summary>Adds redis-server options to the container's command line (one shell string in publish mode, separate arguments otherwise).</summary>
    private static IResourceBuilder<RedisResource> WithServerArgs(this IResourceBuilder<RedisResource> builder, string[] serverArgs) =>
        builder.WithArgs(context =>
        {
            // Publish mode passes the whole server command line as one "sh -c" argument (so the password comes from the environment).
            var shellCommand = context.Args.IndexOf("-c");
            if (shellCommand >= 0 && shellCommand + 1 < context.Args.Count && context.Args[shellCommand + 1] is string command)
            {
                context.Args[shellCommand + 1] = $"{command} {string.Join(' ', serverArgs.Select(a => a.Length == 0 ? "''" : a))}";
                return;
            }
            foreach (var arg in serverArgs)
            {
                context.Args.Add(arg);
            }
        });

    private static IResourceBuilder<IResourceWithConnectionString> AddLocalRedis(
        this IDistributedApplicationBuilder builder, string name, string redisServer, string redisDir, string[] serverArgs)
    {
        Directory.CreateDirectory(redisDir);
        var resource = new LocalRedisResource(name, redisServer, redisDir);
        var healthCheckKey = $"{name}-ping";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => new RedisPingHealthCheck(resource), failureStatus: null, tags: null));

        return builder.AddResource(resource)
            .WithEndpoint(name: LocalRedisResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(ctx =>
            {
                ctx.Args.Add("--port");
                ctx.Args.Add(resource.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                // Loopback only: this Redis has no password.
                ctx.Args.Add("--bind");
                ctx.Args.Add("127.0.0.1");
                ctx.Args.Add("--dir");
                ctx.Args.Add(redisDir);
                foreach (var arg in serverArgs)
                {
                    ctx.Args.Add(arg);
                }
                ctx.Args.Add("--daemonize");
                ctx.Args.Add("no");
            })
            .WithHealthCheck(healthCheckKey);
    }

    private static string? FindOnPath(string command)
    {
        if (Path.IsPathRooted(command))
        {
            return File.Exists(command) ? command : null;
        }
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, command))
            .FirstOrDefault(File.Exists);
    }

    private static bool ContainerRuntimeAnswers(string runtime)
    {
        if (FindOnPath(runtime) is null)
        {
            return false;
        }
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, "info --format {{.ServerVersion}}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

/// <summary>What a Redis of the platform holds, which decides its persistence and what it does when its memory is full.</summary>
internal enum RedisRole
{
    /// <summary>Queues, job state, events, the leader lock: persisted, never evicted.</summary>
    State,

    /// <summary>The online scorer's response cache: not persisted, least recently used entries evicted.</summary>
    Cache,
}

/// <summary>The machine's <c>redis-server</c> run as an executable, exposing the same connection string as the container resource.</summary>
internal sealed class LocalRedisResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public EndpointReference PrimaryEndpoint => field ??= new EndpointReference(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)}");
}

/// <summary>Healthy once the server answers PING with PONG.</summary>
internal sealed class RedisPingHealthCheck(LocalRedisResource resource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            if (!resource.PrimaryEndpoint.IsAllocated)
            {
                return HealthCheckResult.Unhealthy("Redis endpoint not allocated yet.");
            }
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", resource.PrimaryEndpoint.Port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer, cancellationToken);
            var reply = Encoding.ASCII.GetString(buffer, 0, read);
            return reply.StartsWith("+PONG", StringComparison.Ordinal)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"Redis answered '{reply.Trim()}'.");
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return HealthCheckResult.Unhealthy("Redis does not answer.", ex);
        }
    }
}
