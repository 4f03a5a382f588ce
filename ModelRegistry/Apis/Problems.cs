using MlPlatform.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.ModelRegistry.Apis;

/// <summary>Problem-details results shared by the registry's APIs, and request pieces they all read.</summary>
internal static class Problems
{
    public const string ActorHeader = PlatformHeaders.Actor;
    public const string RoleHeader = PlatformHeaders.Role;
    public const string Anonymous = "anonymous";

    public static BadRequest<ProblemDetails> BadRequest(string title, string detail) =>
        TypedResults.BadRequest(Create(StatusCodes.Status400BadRequest, title, detail));

    public static NotFound<ProblemDetails> NotFound(string detail) =>
        TypedResults.NotFound(Create(StatusCodes.Status404NotFound, "Not found", detail));

    public static Conflict<ProblemDetails> Conflict(string title, string detail) =>
        TypedResults.Conflict(Create(StatusCodes.Status409Conflict, title, detail));

    public static UnprocessableEntity<ProblemDetails> Unprocessable(string title, string detail) =>
        TypedResults.UnprocessableEntity(Create(StatusCodes.Status422UnprocessableEntity, title, detail));

    public static ProblemHttpResult Status(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);

    /// <summary>A 400 naming the rule when <paramref name="name"/> is not a valid model or alias name, else null.</summary>
    public static BadRequest<ProblemDetails>? CheckName(string name, string what = "model") =>
        !NameRules.IsValidName(name) ? BadRequest($"Invalid {what} name", $"'{name}' is not a valid {what} name. {NameRules.NameRule}")
        : what == "model" && NameRules.IsReservedModelName(name)
            ? BadRequest("Reserved model name", $"'{name}' is reserved: /v2/models/{name} serves the platform's statistics extension.")
            : null;

    /// <summary>
    /// The check every version-scoped route (<c>/v1/models/{name}/versions/{version}/…</c>: stats, series, payloads, quality reports)
    /// makes first: a valid model name and a version number; null when both are, with the number in <paramref name="number"/>.
    /// </summary>
    public static BadRequest<ProblemDetails>? CheckVersionRoute(string name, string version, out int number)
    {
        number = 0;
        return CheckName(name) ?? (NameRules.TryParseVersion(version, out number) ? null : InvalidVersion(version));
    }

    public static BadRequest<ProblemDetails> InvalidVersion(string version) =>
        BadRequest("Invalid version", $"'{version}' is not a version: versions are integers from 1.");

    /// <summary>Longest reason a change records (alias changes, rollouts, archived versions).</summary>
    public const int MaxReasonLength = 1000;

    /// <summary>A 400 when an optional reason is longer than <see cref="MaxReasonLength"/>, else null.</summary>
    public static BadRequest<ProblemDetails>? CheckOptionalReason(string? reason) =>
        reason?.Length > MaxReasonLength ? BadRequest("Invalid reason", $"'reason' has at most {MaxReasonLength} characters.") : null;

    /// <summary>A reason without surrounding spaces, or null when none (or only spaces) was given.</summary>
    public static string? TrimmedOrNull(string? reason) => string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();

    /// <summary>The caller as the gateway forwards it; "anonymous" when the request did not come with an identity.</summary>
    public static Caller CallerOf(HttpRequest request)
    {
        static string? Header(HttpRequest request, string name)
        {
            var value = request.Headers[name].ToString().Trim();
            return value.Length == 0 ? null : value.Length > 200 ? value[..200] : value;
        }
        return new Caller(Header(request, ActorHeader) ?? Anonymous, Header(request, RoleHeader));
    }

    private static ProblemDetails Create(int status, string title, string detail) =>
        new() { Status = status, Title = title, Detail = detail };
}

/// <summary>
/// Typed error results (<c>BadRequest&lt;ProblemDetails&gt;</c>, ...) keep the OpenAPI document precise but are written as <c>application/json</c>;
/// this filter re-issues them as <c>application/problem+json</c>, the media type RFC 7807 clients look for.
/// </summary>
internal sealed class ProblemJsonFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        var inner = result is INestedHttpResult nested ? nested.Result : result;
        return inner is IValueHttpResult { Value: ProblemDetails problem } and not ProblemHttpResult and not ValidationProblem
            ? TypedResults.Problem(problem)
            : result;
    }
}
