using MlPlatform.Inference;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");
        builder.AddInferenceCore();

        builder.Services.AddSingleton<ServerReadiness>();
        builder.Services.AddHostedService<RegistryReconciler>();
        builder.Services.AddHealthChecks().AddCheck<ServerReadinessHealthCheck>("registry-reconciled");
    }
}
