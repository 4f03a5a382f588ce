using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Errors;

namespace MlPlatform.Gateway.Auth;

/// <summary>
/// Authenticates a caller by the API key in <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-API-Key: &lt;key&gt;</c>.
/// A missing or unknown key is answered 401 with <c>WWW-Authenticate</c>; a known key without the route's role, 403.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string ApiKeyHeader = "X-API-Key";
    public const string Realm = "mlplatform";

    private const string FailureItem = "MlPlatform.ApiKeyFailure";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = ReadPresentedKey(Request.Headers, out var problem);
        if (problem is not null)
        {
            return Task.FromResult(Fail(problem));
        }
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (keys.Find(presented) is not { } identity)
        {
            return Task.FromResult(Fail("The API key is not valid."));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, identity.Id),
                new Claim(ClaimTypes.Name, identity.Id),
                new Claim(ClaimTypes.Role, identity.Role),
            ],
            SchemeName, ClaimTypes.Name, ClaimTypes.Role));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = Context.Items[FailureItem] as string;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = failure is null
            ? $"Bearer realm=\"{Realm}\""
            : $"Bearer realm=\"{Realm}\", error=\"invalid_token\"";
        await GatewayErrors.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
            failure ?? $"An API key is required: send 'Authorization: Bearer <key>' or '{ApiKeyHeader}: <key>'.");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var role = Context.User.FindFirstValue(ClaimTypes.Role) ?? "none";
        await GatewayErrors.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden",
            $"The API key's role '{role}' is not allowed to {Request.Method} {Request.Path}.");
    }

    private AuthenticateResult Fail(string reason)
    {
        Context.Items[FailureItem] = reason;
        return AuthenticateResult.Fail(reason);
    }

    /// <summary>The key the request presents, or null; <paramref name="problem"/> says why a presented credential is unusable.</summary>
    internal static string? ReadPresentedKey(IHeaderDictionary headers, out string? problem)
    {
        problem = null;
        string? fromAuthorization = null;
        var authorization = headers.Authorization;
        if (authorization.Count > 1 || headers[ApiKeyHeader].Count > 1)
        {
            problem = "Send one API key, in one header.";
            return null;
        }
        if (authorization.Count == 1)
        {
            var value = authorization[0] ?? "";
            if (!value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                problem = "Only the Bearer scheme is accepted in the Authorization header.";
                return null;
            }
            fromAuthorization = value["Bearer ".Length..].Trim();
        }
        var fromHeader = headers[ApiKeyHeader].Count == 1 ? headers[ApiKeyHeader][0]?.Trim() : null;
        if (fromAuthorization is not null && fromHeader is not null && !string.Equals(fromAuthorization, fromHeader, StringComparison.Ordinal))
        {
            problem = $"The Authorization and {ApiKeyHeader} headers carry different keys.";
            return null;
        }
        var key = fromAuthorization ?? fromHeader;
        if (key is { Length: 0 })
        {
            problem = "The API key is empty.";
            return null;
        }
        return key;
    }
}
