using System.Security.Claims;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Auth;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace MlPlatform.Gateway.Forwarding;

/// <summary>
/// On every route: drops the caller's credentials and any platform-internal header the client sent, then tells the backend who is calling
/// (<c>X-MlPlatform-Actor</c> = key id, <c>X-MlPlatform-Role</c>) and proves the request came through the gateway (the internal credential).
/// </summary>
public sealed class CallerIdentityTransformProvider(IOptions<InternalCredentialOptions> internalCredential) : ITransformProvider
{
    public const string InternalHeaderPrefix = PlatformHeaders.InternalPrefix;
    public const string ActorHeader = PlatformHeaders.Actor;
    public const string RoleHeader = PlatformHeaders.Role;

    // RFC 7239's header is not rewritten by YARP's X-Forwarded-* transforms, so a client could use it to pose as someone else.
    // The console's session cookie and CSRF token are credentials too: backends never see them.
    private static readonly string[] ClientOnlyHeaders =
        ["Authorization", ApiKeyAuthenticationHandler.ApiKeyHeader, "Forwarded", "Cookie", Sessions.SessionAuthenticationHandler.CsrfHeader];

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.AddRequestTransform(transform =>
    {
        Rewrite(transform.HttpContext, transform.ProxyRequest, internalCredential.Value.Key);
        return ValueTask.CompletedTask;
    });

    /// <summary>Rewrites the headers of <paramref name="proxyRequest"/> for the caller of <paramref name="context"/>.</summary>
    public static void Rewrite(HttpContext context, HttpRequestMessage proxyRequest, string? internalKey)
    {
        foreach (var header in ClientOnlyHeaders)
        {
            proxyRequest.Headers.Remove(header);
        }
        foreach (var name in context.Request.Headers.Keys)
        {
            if (name.StartsWith(InternalHeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                proxyRequest.Headers.Remove(name);
                proxyRequest.Content?.Headers.Remove(name);
            }
        }

        if (context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } actor)
        {
            proxyRequest.Headers.TryAddWithoutValidation(ActorHeader, actor);
        }
        if (context.User.FindFirstValue(ClaimTypes.Role) is { } role)
        {
            proxyRequest.Headers.TryAddWithoutValidation(RoleHeader, role);
        }
        if (!string.IsNullOrEmpty(internalKey))
        {
            proxyRequest.Headers.TryAddWithoutValidation(InternalCredentialOptions.HeaderName, internalKey);
        }
    }
}
