using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");

        builder.Services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton<RegistryDatabase>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RegistryDatabase>());
        builder.Services.AddSingleton<ModelStore>();
    }
}
