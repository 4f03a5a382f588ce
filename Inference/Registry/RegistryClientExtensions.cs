using Microsoft.Extensions.DependencyInjection;

namespace MlPlatform.Inference.Registry;

public static class RegistryClientExtensions
{
    /// <summary>Registers <see cref="RegistryClient"/> pointing at the <c>modelregistry</c> service.</summary>
    public static IHttpClientBuilder AddRegistryClient(this IServiceCollection services, string baseAddress = "http://modelregistry")
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddHttpClient<RegistryClient>(http => http.BaseAddress = new Uri(baseAddress));
    }
}
