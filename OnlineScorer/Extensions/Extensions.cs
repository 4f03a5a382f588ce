using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MlPlatform.Inference;
using MlPlatform.Inference.Fleet;
using MlPlatform.OnlineScorer.Caching;
using MlPlatform.OnlineScorer.Model;
using MlPlatform.OnlineScorer.Payloads;
using MlPlatform.OnlineScorer.Serving;
using MlPlatform.OnlineScorer.Shadow;
using MlPlatform.OnlineScorer.Telemetry;

namespace MlPlatform.OnlineScorer.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");
        // The response cache's own Redis: bounded and evicting, apart from the one that holds fleet state and events.
        builder.AddKeyedRedisClient(ResponseCache.ConnectionName);
        builder.AddInferenceCore();

        builder.Services.AddOptions<InferenceLimitsOptions>().BindConfiguration(InferenceLimitsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<BatchingOptions>().BindConfiguration(BatchingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ResponseCacheOptions>().BindConfiguration(ResponseCacheOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ReconciliationOptions>().BindConfiguration(ReconciliationOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<FleetStatsOptions>().BindConfiguration(FleetStatsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<PayloadLogOptions>().BindConfiguration(PayloadLogOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ShadowOptions>().BindConfiguration(ShadowOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<LivenessOptions>().BindConfiguration(LivenessOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        // The infer handler enforces the body limit (413 with a V2 error). Kestrel's own limit is twice as high so that it can still
        // drain a rejected body: a proxy in front (the gateway) that is still sending would otherwise turn the 413 into a 502.
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<InferenceLimitsOptions>>((kestrel, limits) =>
            kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes * 2);
        // Kestrel's socket transport receives into 4 KiB blocks and, by default, waits for each with a zero-byte receive first (so an
        // idle connection holds no block): two receive calls per 4 KiB of body, ~94 for a 190 KB JSON tensor. The scorer's clients are
        // the gateway's few pooled connections, so it receives at once: half the calls, for one block held per idle connection.
        builder.Services.Configure<SocketTransportOptions>(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, V2JsonContext.Default);
            json.SerializerOptions.Encoder = V2JsonContext.Encoder;
        });

        builder.Services.AddSingleton<InferenceMetrics>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<FleetStatsRecorder>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FleetStatsRecorder>());
        builder.Services.AddSingleton<ServingEventPublisher>();
        builder.Services.AddSingleton<VersionLoader>();
        builder.Services.AddSingleton<VersionCache>();
        builder.Services.AddSingleton<RouteTable>();
        builder.Services.AddSingleton<ModelReconciler>();
        builder.Services.AddSingleton<OnDemandLoadGate>();
        builder.Services.AddSingleton<InFlightBudget>();
        builder.Services.AddSingleton<ModelStatisticsRecorder>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelStatisticsRecorder>());
        builder.Services.AddSingleton<ModelStatisticsReader>();
        builder.Services.AddSingleton<ModelRepository>();
        builder.Services.AddSingleton<RepositoryLoader>();
        builder.Services.AddSingleton<ResponseCache>();
        builder.Services.AddSingleton<PayloadMetrics>();
        builder.Services.AddSingleton<PayloadRecorder>();
        builder.Services.AddHostedService<PayloadShipper>();
        builder.Services.AddSingleton<ShadowMetrics>();
        builder.Services.AddSingleton<ShadowQueue>();
        builder.Services.AddSingleton<ShadowGate>();
        builder.Services.AddSingleton<InferenceService>();
        builder.Services.AddHostedService<ShadowWorker>();
        builder.Services.AddSingleton<ServerReadiness>();
        builder.Services.AddHostedService<RegistryReconciler>();
        builder.Services.AddHostedService<RegistryEventListener>();
        builder.Services.AddHostedService<ReadinessHeartbeat>();
        // A singleton, because it remembers since when no model could be served (checks are otherwise created per run).
        builder.Services.AddSingleton<ServingCapabilityHealthCheck>();
        builder.Services.AddHealthChecks()
            .AddCheck<ServerReadinessHealthCheck>("registry-reconciled")
            .AddCheck<ServingCapabilityHealthCheck>("serves-a-model", HealthStatus.Unhealthy, [ServiceDefaultsExtensions.LiveTag]);
    }
}
