using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Shuts the tracer, meter and logger providers down together, with one bound, once every hosted service has stopped.
/// Left to themselves they shut down one after the other when the container is disposed, each waiting up to the SDK's fixed 5 s
/// while the OTLP exporter retries an unreachable collector (Aspire turns its in-memory retry on), so a stop took 15 s longer.
/// Bounding the shutdown rather than the exporters' timeout (<c>OtlpExporterOptions.TimeoutMilliseconds</c>) keeps slow collectors
/// working while the service runs. A provider shut down here is not waited for again when it is disposed.
/// </summary>
internal sealed class TelemetryShutdown(IServiceProvider services, IOptions<TelemetryOptions> options, ILogger<TelemetryShutdown> logger)
    : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs after the drain, so the final batch holds what the hosted services logged and traced while stopping; what is emitted later,
    /// while the container disposes services, is not exported. The host's stop token is not honoured: the bound
    /// is already small, and the orchestrator's grace period includes it (docs/deployment.md).
    /// </summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        var bound = TimeSpan.FromSeconds(options.Value.ShutdownFlushSeconds);
        var timeoutMilliseconds = (int)bound.TotalMilliseconds;
        var started = Stopwatch.GetTimestamp();
        // Shutdown blocks its caller until the final export ends or the bound passes; run the three side by side.
        var shutdowns = new List<Task>();
        if (services.GetService<TracerProvider>() is { } tracing)
        {
            shutdowns.Add(Task.Run(() => tracing.Shutdown(timeoutMilliseconds), CancellationToken.None));
        }
        if (services.GetService<MeterProvider>() is { } metrics)
        {
            shutdowns.Add(Task.Run(() => metrics.Shutdown(timeoutMilliseconds), CancellationToken.None));
        }
        if (services.GetService<LoggerProvider>() is { } logging)
        {
            shutdowns.Add(Task.Run(() => logging.Shutdown(timeoutMilliseconds), CancellationToken.None));
        }
        await Task.WhenAll(shutdowns).ConfigureAwait(false);

        // Judged by time, not by Shutdown's result: the meter provider reports failure whenever the Prometheus (pull) reader is present.
        if (bound > TimeSpan.Zero && Stopwatch.GetElapsedTime(started) >= bound)
        {
            // The OpenTelemetry logger is shut down by now; this reaches the console.
            logger.LogWarning("Telemetry export did not finish within {Seconds} s ({Section}:ShutdownFlushSeconds) at exit; what was unsent is dropped",
                options.Value.ShutdownFlushSeconds, TelemetryOptions.SectionName);
        }
    }
}
