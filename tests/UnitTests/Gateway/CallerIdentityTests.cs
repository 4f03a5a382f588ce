using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using MlPlatform.Gateway.Auth;
using MlPlatform.Gateway.Forwarding;

namespace MlPlatform.UnitTests.Gateway;

public sealed class CallerIdentityTests
{
    private const string InternalKey = "internal-key-0123456789abcdef0123456789";

    [Fact]
    public void TheBackendSeesTheKeyIdAndRoleButNeverTheKey()
    {
        var (context, proxyRequest) = Exchange(new Dictionary<string, string>
        {
            ["Authorization"] = "Bearer secret-key-0123456789abcdef",
            ["X-API-Key"] = "secret-key-0123456789abcdef",
        });
        context.User = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, "ci-bot"), new Claim(ClaimTypes.Role, GatewayRoles.Operator)], "ApiKey"));

        CallerIdentityTransformProvider.Rewrite(context, proxyRequest, InternalKey);

        Assert.Equal(["ci-bot"], proxyRequest.Headers.GetValues("X-MlPlatform-Actor"));
        Assert.Equal(["operator"], proxyRequest.Headers.GetValues("X-MlPlatform-Role"));
        Assert.Equal([InternalKey], proxyRequest.Headers.GetValues(InternalCredentialOptions.HeaderName));
        Assert.False(proxyRequest.Headers.Contains("Authorization"));
        Assert.False(proxyRequest.Headers.Contains("X-API-Key"));
    }

    [Fact]
    public void ClientSuppliedPlatformHeadersAndForwardedAreDropped()
    {
        var (context, proxyRequest) = Exchange(new Dictionary<string, string>
        {
            ["X-MlPlatform-Actor"] = "admin",
            ["x-mlplatform-role"] = "admin",
            ["X-MlPlatform-Internal-Key"] = "guess",
            ["X-MlPlatform-Anything"] = "1",
            ["Forwarded"] = "for=10.0.0.1;by=gateway",
            ["Accept"] = "application/json",
        });

        CallerIdentityTransformProvider.Rewrite(context, proxyRequest, internalKey: null);

        Assert.Equal(["Accept"], proxyRequest.Headers.Select(h => h.Key));
    }

    [Fact]
    public void TheConsolesSessionCookieAndCsrfTokenNeverReachTheBackend()
    {
        var (context, proxyRequest) = Exchange(new Dictionary<string, string>
        {
            ["Cookie"] = "mlp_session=session-token-0123456789abcdef",
            ["X-CSRF-Token"] = "csrf-token-0123456789abcdef",
            ["Accept"] = "application/json",
        });

        CallerIdentityTransformProvider.Rewrite(context, proxyRequest, internalKey: null);

        Assert.Equal(["Accept"], proxyRequest.Headers.Select(h => h.Key));
    }

    private static (DefaultHttpContext Context, HttpRequestMessage ProxyRequest) Exchange(Dictionary<string, string> headers)
    {
        var context = new DefaultHttpContext();
        var proxyRequest = new HttpRequestMessage(HttpMethod.Get, "http://modelregistry/v1/models");
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
            // What YARP's default header copy does before request transforms run.
            proxyRequest.Headers.TryAddWithoutValidation(name, value);
        }
        return (context, proxyRequest);
    }
}
