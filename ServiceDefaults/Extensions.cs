using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>Defaults shared by every MlPlatform service: telemetry, health, service discovery, resilience.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Tag of the health checks that decide liveness (<c>/alive</c>).</summary>
    public const string LiveTag = "live";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureGracefulShutdown();
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.AddInternalCredential();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // First, so it sees the service name (http://modelregistry) before service discovery resolves it.
            http.AddHttpMessageHandler<InternalCredentialHandler>();
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    /// <summary>
    /// Requires the internal credential on every inbound request except probes, and attaches it to calls to other platform services.
    /// The gateway, the public door, turns the inbound check off (<see cref="InternalCredentialOptions.RequireOnInbound"/>).
    /// </summary>
    public static TBuilder AddInternalCredential<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<InternalCredentialOptions>()
            .BindConfiguration(InternalCredentialOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<InternalCredentialOptions>, InternalCredentialOptionsValidator>();
        builder.Services.AddTransient<InternalCredentialHandler>();
        builder.Services.AddTransient<IStartupFilter, InternalCredentialStartupFilter>();
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        // Read here, not through IOptions: the meter provider's views are fixed before the container exists.
        var recordUnread = builder.Configuration.GetSection(TelemetryOptions.SectionName)
            .GetValue<bool>(nameof(TelemetryOptions.RecordUnreadInstruments));
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => (recordUnread ? metrics : metrics.DropUnreadInstruments())
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddProcessInstrumentation()
                .AddMeter(PlatformTelemetry.MeterNamePattern)
                // Served at /metrics for scrapers (Prometheus, the alerting of the orchestrator) beside the OTLP push to the dashboard.
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(PlatformTelemetry.ActivitySourceNamePattern)
                // Probes hit these every few seconds; tracing them drowns the dashboard.
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx =>
                    !ctx.Request.Path.StartsWithSegments(HealthEndpointPath) &&
                    !ctx.Request.Path.StartsWithSegments(AlivenessEndpointPath) &&
                    !ctx.Request.Path.StartsWithSegments(MetricsEndpointPath))
                .AddHttpClientInstrumentation());

        builder.Services.AddOptions<TelemetryOptions>()
            .BindConfiguration(TelemetryOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
            // Bounds the exporters' final flush at exit (Telemetry:ShutdownFlushSeconds); see TelemetryShutdown for why.
            builder.Services.AddHostedService<TelemetryShutdown>();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    public const string MetricsEndpointPath = "/metrics";

    /// <summary>
    /// Maps <c>/health</c> (ready: every check), <c>/alive</c> (live checks only) and the Prometheus scrape endpoint <c>/metrics</c>
    /// in every environment, because orchestrators probe and scrape them in production. A service on a public port (the gateway)
    /// passes <paramref name="metricsPolicy"/> so that its metrics are not open to the internet.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, string? metricsPolicy = null)
    {
        // Anonymous: probes carry no credentials, and the gateway's fallback policy would otherwise demand a key.
        app.MapHealthChecks(HealthEndpointPath).AllowAnonymous();
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(LiveTag)
        }).AllowAnonymous();
        var metrics = app.MapPrometheusScrapingEndpoint(MetricsEndpointPath);
        if (metricsPolicy is null)
        {
            metrics.AllowAnonymous();
        }
        else
        {
            metrics.RequireAuthorization(metricsPolicy);
        }
        return app;
    }
}
