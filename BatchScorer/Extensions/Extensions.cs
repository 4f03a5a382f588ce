using MlPlatform.BatchScorer.Jobs;
using MlPlatform.Inference.Registry;

namespace MlPlatform.BatchScorer.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");
        builder.Services.AddRegistryClient();
        builder.Services.AddSingleton<JobStore>();
    }
}
