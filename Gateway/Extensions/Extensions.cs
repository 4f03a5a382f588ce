using Microsoft.Extensions.DependencyInjection.Extensions;
using MlPlatform.Gateway.Auth;
using MlPlatform.Gateway.Errors;
using MlPlatform.Gateway.Forwarding;
using MlPlatform.Gateway.Health;
using MlPlatform.Gateway.Limits;
using MlPlatform.Gateway.Sessions;
using Yarp.ReverseProxy.Forwarder;

namespace MlPlatform.Gateway.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // The gateway is the public door: callers present API keys, not the internal credential (it attaches that one itself).
        builder.Services.PostConfigure<InternalCredentialOptions>(options => options.RequireOnInbound = false);

        builder.AddGatewayErrors();
        builder.AddApiKeyAuth();
        builder.AddConsoleSessions();
        builder.AddGatewayLimits();
        builder.AddBackendHealth();

        builder.Services.AddOptions<EarlyAnswerOptions>().BindConfiguration(EarlyAnswerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver()
            .AddTransforms<CallerIdentityTransformProvider>()
            .AddStreamMessageLimits()
            .AddConfigFilter<BackendHealthConfigFilter>()
            .AddTransforms<EarlyAnswerTransformProvider>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, EarlyAnswerHttpClientFactory>());
    }
}
