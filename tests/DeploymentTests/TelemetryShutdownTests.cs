using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MlPlatform.DeploymentTests;

/// <summary>
/// The exporters' last flush when a service stops, with the real OpenTelemetry SDK and OTLP exporter of ServiceDefaults
/// against a closed port and against a collector that answers.
/// </summary>
public sealed class TelemetryShutdownTests
{
    private const string TestSource = "MlPlatform.TelemetryShutdownTests";

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "telemetry-shutdown-tests" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.ConfigureOpenTelemetry();
        return builder.Build();
    }

    /// <summary>Starts the host and gives each signal something to send: a log record, a span (metrics always have some).</summary>
    private static async Task<IHost> StartWithTelemetryAsync(Dictionary<string, string?> settings, string marker)
    {
        var host = Build(settings);
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        host.Services.GetRequiredService<ILoggerFactory>().CreateLogger<TelemetryShutdownTests>().LogWarning("log {Marker}", marker);
        using var source = new ActivitySource(TestSource);
        source.StartActivity($"span {marker}")?.Dispose();
        return host;
    }

    private static async Task<TimeSpan> StopAsync(IHost host)
    {
        var stopping = Stopwatch.StartNew();
        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        host.Dispose();
        return stopping.Elapsed;
    }

    [Fact]
    public async Task AnUnreachableCollectorDelaysTheStopByNoMoreThanTheFlushBound()
    {
        var settings = new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{ClosedPort()}",
            // As Aspire sets it for every project: failed exports are retried until the exporter's own 10 s timeout.
            ["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory",
            ["Telemetry:ShutdownFlushSeconds"] = "1",
        };
        var host = await StartWithTelemetryAsync(settings, "unreachable");

        var took = await StopAsync(host);

        // Without the bound the providers shut down one after the other, 5 s each: 15 s.
        // Measured: 1.1 s. The margin is for a loaded machine, and far below the 15 s of an unbounded flush.
        Assert.True(took < TimeSpan.FromSeconds(1 + 2.5), $"the host took {took} to stop with a 1 s flush bound");
    }

    [Fact]
    public async Task AReachableCollectorReceivesTheLastLogsAndSpansWhenTheServiceStops()
    {
        using var collector = new OtlpHttpCollector();
        var marker = Guid.NewGuid().ToString("N");
        var settings = new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            // Nothing is exported on schedule during the test: what arrives is the final flush.
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "600000",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "600000",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "600000",
            ["Telemetry:ShutdownFlushSeconds"] = "20",
        };
        var host = await StartWithTelemetryAsync(settings, marker);
        Assert.Empty(collector.Received);

        var took = await StopAsync(host);

        Assert.Contains(collector.Received, r => r.Path == "/v1/logs" && r.Body.Contains($"log {marker}", StringComparison.Ordinal));
        Assert.Contains(collector.Received, r => r.Path == "/v1/traces" && r.Body.Contains($"span {marker}", StringComparison.Ordinal));
        Assert.Contains(collector.Received, r => r.Path == "/v1/metrics");
        // The collector answers at once, so the stop does not wait for the bound.
        Assert.True(took < TimeSpan.FromSeconds(10), $"the host took {took} to stop with a collector that answers");
    }

    [Fact]
    public void ShutdownFlushSecondsIsReadFromTheTelemetrySectionAndDefaultsToThree()
    {
        using var configured = Build(new() { ["Telemetry:ShutdownFlushSeconds"] = "7" });
        using var unset = Build([]);

        Assert.Equal(7, configured.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value.ShutdownFlushSeconds);
        Assert.Equal(3, unset.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value.ShutdownFlushSeconds);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("31")]
    public async Task AShutdownFlushBoundOutsideZeroToThirtySecondsStopsTheServiceFromStarting(string seconds)
    {
        // Checked even without a collector, so a bad value is found before the day one is configured.
        using var host = Build(new() { ["Telemetry:ShutdownFlushSeconds"] = seconds });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal("DataAnnotation validation failed for 'TelemetryOptions' members: 'ShutdownFlushSeconds' with the error: " +
            "'The field ShutdownFlushSeconds must be between 0 and 30.'.", error.Message);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>An OTLP/HTTP receiver: accepts every export with an empty (successful) protobuf response and keeps the bodies.</summary>
    private sealed class OtlpHttpCollector : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;

        public OtlpHttpCollector()
        {
            var port = ClosedPort();
            Endpoint = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add($"{Endpoint}/");
            _listener.Start();
            _serving = Task.Run(ServeAsync);
        }

        public string Endpoint { get; }

        /// <summary>Each export's path and body; the body is protobuf, whose strings are UTF-8, so a marker can be searched for.</summary>
        public ConcurrentBag<(string Path, string Body)> Received { get; } = [];

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                Received.Add((context.Request.Url!.AbsolutePath, Encoding.UTF8.GetString(body.ToArray())));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.ContentLength64 = 0;
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
