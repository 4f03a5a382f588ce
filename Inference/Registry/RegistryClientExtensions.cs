using Microsoft.Extensions.DependencyInjection;

namespace MlPlatform.Inference.Registry;

/// <summary>Registration of <see cref="RegistryClient"/>.</summary>
public static class RegistryClientExtensions
{
    /// <summary>Registers <see cref="RegistryClient"/> as a singleton over a named <see cref="HttpClient"/> pointing at the <c>modelregistry</c> service.</summary>
    public static IHttpClientBuilder AddRegistryClient(this IServiceCollection services, string baseAddress = "http://modelregistry")
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<RegistryClient>();
        return services.AddHttpClient(RegistryClient.HttpClientName, http => http.BaseAddress = new Uri(baseAddress));
    }
}
