using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Alerts;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Fleet;
using MlPlatform.ModelRegistry.Inspection;
using MlPlatform.ModelRegistry.Registration;
using MlPlatform.ModelRegistry.Rollouts;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");

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
        builder.Services.AddHostedService<DemoModelSeeder>();
    }
}
