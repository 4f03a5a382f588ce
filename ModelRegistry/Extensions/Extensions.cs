using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Alerts;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Fleet;
using MlPlatform.ModelRegistry.Inspection;
using MlPlatform.ModelRegistry.Quality;
using MlPlatform.ModelRegistry.Registration;
using MlPlatform.ModelRegistry.Rollouts;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");
        // Routes that read Redis (statistics) answer 503 + Retry-After while it is down; the rest of the registry keeps working.
        builder.AddDependencyUnavailableHandler(new DependencyOutage("Statistics unavailable",
            "Redis, where the statistics are kept, cannot be read right now",
            ex => ex is StackExchange.Redis.RedisException or StackExchange.Redis.RedisTimeoutException));

        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<RegistrationOptions>().BindConfiguration(RegistrationOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<InspectionOptions>().BindConfiguration(InspectionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<EventsOptions>().BindConfiguration(EventsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<SeedOptions>().BindConfiguration(SeedOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<FleetStatsOptions>().BindConfiguration(FleetStatsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddSingleton(TimeProvider.System);

        // Hosted services start in registration order: schema first, then blob clean-up (it reads the schema), then the seed (it uses both).
        builder.Services.AddSingleton<RegistryDatabase>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RegistryDatabase>());
        builder.Services.AddSingleton<BlobStore>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BlobStore>());
        builder.Services.AddSingleton<RegistryUnitOfWork>();
        builder.Services.AddSingleton<ModelStore>();
        builder.Services.AddSingleton<AliasStore>();
        builder.Services.AddSingleton<ServingStore>();
        builder.Services.AddSingleton<PinStore>();
        builder.Services.AddSingleton<ModelInspector>();
        builder.Services.AddSingleton<ModelRegistration>();
        builder.Services.AddSingleton<EventPublisher>();
        builder.Services.AddSingleton<FleetStatsReader>();
        builder.Services.AddSingleton<FleetStatsSeriesReader>();

        // Feedback loops: rollouts and the guard, alerts and their webhooks, run by the replica holding the leader lock.
        builder.Services.AddOptions<RolloutOptions>().BindConfiguration(RolloutOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<GuardOptions>().BindConfiguration(GuardOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AlertOptions>, WebhookTargetValidator>();
        // Not an IHttpClientFactory client: those get the platform's service discovery, internal credential and retries.
        builder.Services.AddSingleton<WebhookSender>();
        builder.Services.AddSingleton<LeaderLock>();
        builder.Services.AddSingleton<AlertStore>();
        builder.Services.AddSingleton<AlertCenter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AlertCenter>());
        builder.Services.AddHostedService<AlertEvaluator>();
        builder.Services.AddSingleton<RolloutStore>();
        builder.Services.AddSingleton<RolloutService>();
        builder.Services.AddHostedService<RolloutController>();

        // The quality loop: the payload log's files, drained from the scorers' stream by the leader.
        builder.Services.AddOptions<QualityOptions>().BindConfiguration(QualityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<PayloadFiles>();
        builder.Services.AddSingleton<FeedbackStore>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FeedbackStore>());
        builder.Services.AddSingleton<QualityMetrics>();
        builder.Services.AddSingleton<QualityService>();
        builder.Services.AddSingleton<QualityAlerts>();
        builder.Services.AddSingleton<QualityGateJudge>();
        builder.Services.AddSingleton<ReferenceStore>();
        builder.Services.AddHostedService<PayloadDrainer>();
        builder.Services.AddHostedService<DemoModelSeeder>();
    }
}
