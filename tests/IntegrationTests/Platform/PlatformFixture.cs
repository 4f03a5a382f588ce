using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MlPlatform.IntegrationTests.Platform;

/// <summary>
/// Starts the whole AppHost once for a test collection, with its own temporary data folder and no demo content,
/// so tests never see a developer's <c>.data/</c> or each other's leftovers.
/// </summary>
public class PlatformFixture : IAsyncLifetime
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    private DistributedApplication? _app;

    /// <summary>The admin key this fixture configures through the AppHost's <c>admin-api-key</c> parameter.</summary>
    public const string AdminApiKey = "test-admin-key-0123456789abcdef";

    /// <summary>The operator key (AppHost parameter <c>operator-api-key</c>).</summary>
    public const string OperatorApiKey = "test-operator-key-0123456789abcdef";

    /// <summary>The reader key (AppHost parameter <c>reader-api-key</c>).</summary>
    public const string ReaderApiKey = "test-reader-key-0123456789abcdef";

    /// <summary>The credential services require from callers other than probes (AppHost parameter <c>internal-api-key</c>); fixed here so tests can call a backend directly.</summary>
    public const string InternalApiKey = "test-internal-key-0123456789abcdef0123456789";

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "mlplatform-tests", Guid.NewGuid().ToString("N"));

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The platform has not started.");

    /// <summary>
    /// For fixtures whose tests never touch batch: one batch replica instead of two. A replica is a process to start and run beside
    /// every collection, and the suite is CPU-bound while two collections run (both cores busy). The collections that test batch keep both.
    /// </summary>
    protected const string OneBatchReplica = "Platform:BatchScorerReplicas=1";

    /// <summary>Extra AppHost settings for a fixture that needs them (fault tests, low limits).</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>
    /// Whether the services push telemetry over OTLP. Off: tests run without the dashboard (Aspire.Hosting.Testing leaves it out), yet
    /// Aspire still points every service's exporter at the dashboard's address, so each service sent metrics, traces and logs every
    /// second into a refused connection, kept them for retry, and waited up to <c>Telemetry:ShutdownFlushSeconds</c> at every stop.
    /// A fixture that tests the export itself sets it on (and its own endpoint). <c>/metrics</c> is served either way.
    /// </summary>
    protected virtual bool ExportTelemetry => false;

    private static void StopTelemetryExport(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            // Runs after Aspire's own OTLP settings (added when the project was); an empty endpoint turns the exporter off (ServiceDefaults).
            builder.CreateResourceBuilder(project).WithEnvironment(context => context.EnvironmentVariables["OTEL_EXPORTER_OTLP_ENDPOINT"] = "");
        }
    }

    /// <summary>Changes to the app model before it is built, for a fixture that needs them (fault injection).</summary>
    protected virtual void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
    }

    public async Task InitializeAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Directory.CreateDirectory(DataDir);
        string[] args =
        [
            $"Platform:DataDir={DataDir}",
            "Platform:GatewayPort=0",
            "Platform:GatewayGrpcPort=0",
            "Platform:DemoModel=false",
            "Redis:Mode=local",
            $"Parameters:admin-api-key={AdminApiKey}",
            $"Parameters:operator-api-key={OperatorApiKey}",
            $"Parameters:reader-api-key={ReaderApiKey}",
            $"Parameters:internal-api-key={InternalApiKey}",
            // The guard that watches plain promotions is on and judges server errors (bad inputs are client errors, never judged). Its
            // p99 threshold is raised: on a loaded test machine a version's first requests (JIT, model load) can take seconds, which must
            // not roll a good promotion back behind a test's back. GuardLatencyTests' fixture lowers it again.
            "Registry:Guard:MaxP99Ms=60000",
            .. ExtraArguments,
        ];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(args)
            .WaitAsync(StartTimeout);
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Aspire.", LogLevel.Warning)
            .AddFilter("System.Net.Http.HttpClient", LogLevel.Warning)
            // The services' own console output, forwarded line by line (a few thousand lines per collection); what they write to
            // stderr still shows. The app host's configuration (Logging:LogLevel:Default) outranks SetMinimumLevel, hence the filters.
            .AddFilter("AppHost.Resources", LogLevel.Warning)
            // The app host's probes of a service that is starting or was killed on purpose fail by design; each failure logged a stack
            // trace, and they filled the test log (CI keeps its tail). The tests wait for health themselves.
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));

        if (!ExportTelemetry)
        {
            StopTelemetryExport(builder);
        }
        ConfigureApp(builder);
        _app = await builder.BuildAsync().WaitAsync(StartTimeout);
        await _app.StartAsync().WaitAsync(StartTimeout);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("gateway").WaitAsync(StartTimeout);
        // One line per fixture in the test log: fixtures' start and stop are most of the suite's time.
        Console.WriteLine($"[fixture] {GetType().Name} started in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>An HTTP client whose base address is the gateway (the only door clients use), presenting <paramref name="apiKey"/> (admin by default; null for none).</summary>
    public HttpClient CreateGatewayClient(string? apiKey = AdminApiKey)
    {
        var client = App.CreateHttpClient("gateway", "http");
        client.Timeout = RequestTimeout;
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }
        return client;
    }

    /// <summary>
    /// Waits until the gateway forwards <paramref name="path"/> again (anything but 503) after the test restarted the service behind it:
    /// the gateway takes a stopped instance out of rotation and re-admits it with its next health probe (every second), answering 503 +
    /// Retry-After meanwhile.
    /// </summary>
    public async Task WaitForGatewayRouteAsync(string path)
    {
        using var client = CreateGatewayClient();
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            using var response = await client.GetAsync(path);
            if (response.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The gateway still answers 503 for {path} after {StartTimeout}.");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>A gRPC channel to the gateway's gRPC port (h2c); calls present keys as <c>authorization</c> metadata (<see cref="GrpcKey"/>).</summary>
    public global::Grpc.Net.Client.GrpcChannel CreateGatewayGrpcChannel() =>
        global::Grpc.Net.Client.GrpcChannel.ForAddress(App.GetEndpoint("gateway", "grpc"));

    /// <summary>The call metadata that presents <paramref name="apiKey"/> (none for null).</summary>
    public static global::Grpc.Core.Metadata GrpcKey(string? apiKey = AdminApiKey) =>
        apiKey is null ? [] : new global::Grpc.Core.Metadata { { "authorization", $"Bearer {apiKey}" } };

    public async Task DisposeAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        Console.WriteLine($"[fixture] {GetType().Name} stopped in {clock.Elapsed.TotalSeconds:F1} s");
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process that is shutting down; the temp folder is cleaned by the OS.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformFixture>
{
    public const string Name = "Platform";
}
