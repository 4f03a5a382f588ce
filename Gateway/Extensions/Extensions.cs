using MlPlatform.Gateway.Auth;
using MlPlatform.Gateway.Errors;
using MlPlatform.Gateway.Forwarding;
using MlPlatform.Gateway.Limits;
using MlPlatform.Gateway.Sessions;

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

        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver()
            .AddTransforms<CallerIdentityTransformProvider>();
    }
}
