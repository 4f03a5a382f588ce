using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.Gateway.Auth;

namespace MlPlatform.Gateway.Sessions;

/// <summary>Body of <c>POST /v1/session</c>: the API key to exchange for a session cookie.</summary>
public sealed record SignInRequest(string? ApiKey);

/// <summary>Who the caller is: the key id and role (never the key); for a session, its CSRF token and end.</summary>
public sealed record CallerInfo(
    string KeyId,
    string Role,
    string AuthenticatedBy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CsrfToken,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ExpiresAt);

/// <summary>
/// <c>/v1/session</c> (sign in with an API key, sign out) and <c>/v1/me</c>: how the console gets a cookie instead of holding a key.
/// Served by the gateway itself; nothing here is forwarded.
/// </summary>
public static partial class SessionApi
{
    public const string ApiKeyAuthenticated = "api-key";
    public const string SessionAuthenticated = "session";

    public static IEndpointRouteBuilder MapSessionApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Session");

        api.MapPost("/session", SignIn)
            .WithName("SignIn")
            .WithSummary("Exchange an API key for an HttpOnly session cookie (the console's sign-in)")
            .Accepts<SignInRequest>("application/json")
            .AllowAnonymous();

        api.MapDelete("/session", SignOut)
            .WithName("SignOut")
            .WithSummary("End the session of the cookie presented")
            .RequireAuthorization(GatewayPolicies.Reader);

        api.MapGet("/me", GetMe)
            .WithName("GetMe")
            .WithSummary("The caller's key id and role (with a session cookie: the CSRF token writes must carry)")
            .RequireAuthorization(GatewayPolicies.Reader);

        return app;
    }

    public static Results<Ok<CallerInfo>, UnauthorizedHttpResult, ProblemHttpResult> SignIn(
        HttpContext context, [FromBody] SignInRequest? body, ApiKeyStore keys, SessionStore sessions, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(SessionApi));
        if (string.IsNullOrWhiteSpace(body?.ApiKey))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid sign-in",
                detail: "Send {\"apiKey\": \"<key>\"} as JSON.");
        }
        if (keys.Find(body.ApiKey.Trim()) is not { } identity)
        {
            LogRefused(logger);
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: "The API key is not valid.");
        }
        if (sessions.Create(identity) is not { } created)
        {
            LogFull(logger, sessions.Count);
            context.Response.Headers.RetryAfter = "60";
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Too many sessions",
                detail: "The gateway holds as many console sessions as it may (Sessions:MaxSessions); retry later or use the API key directly.");
        }
        SessionExtensions.AppendSessionCookie(context, created.Token, created.Session.ExpiresAt);
        context.Response.Headers.CacheControl = "no-store";
        LogSignedIn(logger, identity.Id, identity.Role);
        return TypedResults.Ok(new CallerInfo(identity.Id, identity.Role, SessionAuthenticated, created.Session.CsrfToken, created.Session.ExpiresAt));
    }

    public static NoContent SignOut(HttpContext context, SessionStore sessions, ILoggerFactory loggers)
    {
        if (sessions.Remove(SessionAuthenticationHandler.ReadToken(context.Request)))
        {
            LogSignedOut(loggers.CreateLogger(typeof(SessionApi)), context.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "?");
        }
        SessionExtensions.DeleteSessionCookie(context);
        return TypedResults.NoContent();
    }

    public static Ok<CallerInfo> GetMe(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        var id = context.User.FindFirstValue(ClaimTypes.NameIdentifier)!;
        var role = context.User.FindFirstValue(ClaimTypes.Role)!;
        return context.Items[SessionAuthenticationHandler.SessionItem] is ConsoleSession session
            ? TypedResults.Ok(new CallerInfo(id, role, SessionAuthenticated, session.CsrfToken, session.ExpiresAt))
            : TypedResults.Ok(new CallerInfo(id, role, ApiKeyAuthenticated, null, null));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Console session opened for key '{KeyId}' ({Role})")]
    private static partial void LogSignedIn(ILogger logger, string keyId, string role);

    [LoggerMessage(Level = LogLevel.Information, Message = "Console session of key '{KeyId}' ended by sign-out")]
    private static partial void LogSignedOut(ILogger logger, string keyId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console sign-in refused: the API key is not valid")]
    private static partial void LogRefused(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console sign-in refused: {Count} sessions held, Sessions:MaxSessions reached")]
    private static partial void LogFull(ILogger logger, int count);
}
