using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Auth;
using MlPlatform.Gateway.Errors;

namespace MlPlatform.Gateway.Sessions;

/// <summary>
/// Authenticates a console session by its cookie, as the API key it was opened with: same key id, same role, so the same routes
/// and the same per-key rate limit. Only used when the request presents no API key (<see cref="SessionExtensions.SelectScheme"/>).
/// </summary>
public sealed class SessionAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, SessionStore sessions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Session";

    /// <summary>The session cookie: <c>__Host-</c> when it is <c>Secure</c> (the browser then pins it to this host and path /).</summary>
    public const string CookieName = "mlp_session";
    public const string SecureCookieName = "__Host-mlp_session";

    /// <summary>The header a cookie-authenticated write must carry with the session's CSRF token.</summary>
    public const string CsrfHeader = "X-CSRF-Token";

    /// <summary>Item holding the session the request authenticated with.</summary>
    public const string SessionItem = "MlPlatform.Session";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken(Request);
        if (token is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (sessions.Find(token) is not { } session)
        {
            return Task.FromResult(AuthenticateResult.Fail("The session has ended or expired; sign in again."));
        }
        Context.Items[SessionItem] = session;
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, session.Identity.Id),
                new Claim(ClaimTypes.Name, session.Identity.Id),
                new Claim(ClaimTypes.Role, session.Identity.Role),
            ],
            SchemeName, ClaimTypes.Name, ClaimTypes.Role));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = $"Bearer realm=\"{ApiKeyAuthenticationHandler.Realm}\"";
        await GatewayErrors.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
            "The session has ended or expired; sign in again.");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var role = Context.User.FindFirstValue(ClaimTypes.Role) ?? "none";
        await GatewayErrors.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden",
            $"The session's role '{role}' is not allowed to {Request.Method} {Request.Path}.");
    }

    /// <summary>The session token the request's cookie carries, or null.</summary>
    public static string? ReadToken(HttpRequest request) =>
        request.Cookies.TryGetValue(SecureCookieName, out var secure) && !string.IsNullOrEmpty(secure) ? secure
        : request.Cookies.TryGetValue(CookieName, out var plain) && !string.IsNullOrEmpty(plain) ? plain
        : null;
}
