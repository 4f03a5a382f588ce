using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Auth;
using MlPlatform.Gateway.Errors;

namespace MlPlatform.Gateway.Sessions;

internal static class SessionExtensions
{
    /// <summary>The default scheme: a request with an API key header is judged by the key, one with only a session cookie by the session.</summary>
    public const string SelectorScheme = "ApiKeyOrSession";

    public static void AddConsoleSessions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SessionOptions>().BindConfiguration(SessionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<SessionStore>();
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, SessionAuthenticationHandler>(SessionAuthenticationHandler.SchemeName, null)
            .AddPolicyScheme(SelectorScheme, "API key or console session", policy => policy.ForwardDefaultSelector = SelectScheme);
    }

    /// <summary>The key wins when both are presented, so a script holding a key is never judged by a stale cookie.</summary>
    public static string SelectScheme(HttpContext context) =>
        context.Request.Headers.Authorization.Count == 0
        && context.Request.Headers[ApiKeyAuthenticationHandler.ApiKeyHeader].Count == 0
        && SessionAuthenticationHandler.ReadToken(context.Request) is not null
            ? SessionAuthenticationHandler.SchemeName
            : ApiKeyAuthenticationHandler.SchemeName;

    /// <summary>
    /// Refuses (403) a write authenticated by a session cookie unless it carries the session's CSRF token in
    /// <see cref="SessionAuthenticationHandler.CsrfHeader"/>: another site can make the browser send the cookie, never the header.
    /// Runs after authentication and before authorization, so nothing is forwarded without the token.
    /// </summary>
    public static IApplicationBuilder UseSessionCsrfProtection(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !HttpMethods.IsOptions(context.Request.Method)
            && await context.AuthenticateAsync(SelectorScheme) is { Succeeded: true, Ticket.AuthenticationScheme: SessionAuthenticationHandler.SchemeName }
            && context.Items[SessionAuthenticationHandler.SessionItem] is ConsoleSession session
            && !SessionStore.CsrfMatches(session, context.Request.Headers[SessionAuthenticationHandler.CsrfHeader].ToString()))
        {
            await GatewayErrors.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
                $"A write made with a console session must carry the session's CSRF token in the {SessionAuthenticationHandler.CsrfHeader} header.");
            return;
        }
        await next(context);
    });

    /// <summary>Writes the session cookie: <c>HttpOnly</c>, <c>SameSite=Strict</c>, path /, <c>Secure</c> (and <c>__Host-</c>) over TLS or when configured.</summary>
    public static void AppendSessionCookie(HttpContext context, string token, DateTimeOffset expires)
    {
        var secure = IsSecure(context);
        context.Response.Cookies.Append(secure ? SessionAuthenticationHandler.SecureCookieName : SessionAuthenticationHandler.CookieName, token,
            new CookieOptions { HttpOnly = true, Secure = secure, SameSite = SameSiteMode.Strict, Path = "/", Expires = expires, IsEssential = true });
    }

    /// <summary>Expires both cookie names (whichever the browser holds).</summary>
    public static void DeleteSessionCookie(HttpContext context)
    {
        var secure = IsSecure(context);
        context.Response.Cookies.Delete(SessionAuthenticationHandler.CookieName,
            new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", Secure = secure });
        if (secure)
        {
            context.Response.Cookies.Delete(SessionAuthenticationHandler.SecureCookieName,
                new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", Secure = true });
        }
    }

    private static bool IsSecure(HttpContext context) =>
        context.Request.IsHttps || context.RequestServices.GetRequiredService<IOptions<SessionOptions>>().Value.SecureCookie == "Always";
}
