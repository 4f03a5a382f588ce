using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace MlPlatform.Gateway.Auth;

internal static class AuthExtensions
{
    /// <summary>API-key authentication and one authorization policy per role, with admin as the fallback so that a route added without a policy is locked.</summary>
    public static void AddApiKeyAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<ApiKeyOptions>, ApiKeyOptionsValidator>();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddHostedService<ApiKeyStartupReport>();

        // The default scheme picks the key or the console's session cookie (Sessions/), so every route accepts either.
        builder.Services.AddAuthentication(Sessions.SessionExtensions.SelectorScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);

        var authorization = builder.Services.AddAuthorizationBuilder();
        foreach (var role in GatewayRoles.All)
        {
            authorization.AddPolicy(role, RequireRole(role));
        }
        authorization.SetFallbackPolicy(RequireRole(GatewayRoles.Admin));
    }

    private static AuthorizationPolicy RequireRole(string role) => new AuthorizationPolicyBuilder(Sessions.SessionExtensions.SelectorScheme)
        .RequireAuthenticatedUser()
        .RequireRole(GatewayRoles.Satisfying(role))
        .Build();
}
