using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Refuses requests that did not come through the gateway, so that a backend port found on the host is not a back door.
/// Probes (<see cref="InternalCredentialOptions.ExemptPaths"/>) pass.
/// </summary>
internal sealed partial class InternalCredentialMiddleware(
    RequestDelegate next, IOptions<InternalCredentialOptions> options, ILogger<InternalCredentialMiddleware> logger)
{
    private readonly InternalCredentialOptions _options = options.Value;
    private readonly InternalCredential? _credential = InternalCredential.FromKey(options.Value.Key);

    public Task InvokeAsync(HttpContext context)
    {
        if (!_options.RequireOnInbound || IsExempt(context.Request.Path))
        {
            return next(context);
        }

        var presented = context.Request.Headers[InternalCredentialOptions.HeaderName];
        if (_credential is not null && presented.Count == 1 && _credential.Matches(presented[0]))
        {
            return next(context);
        }

        LogRefused(logger, context.Request.Method, context.Request.Path, presented.Count > 0);
        return WriteRefusalAsync(context, _credential is null
            ? "This service accepts requests only through the gateway, and no internal credential is configured."
            : "This service accepts requests only through the gateway.");
    }

    private bool IsExempt(PathString path)
    {
        foreach (var exempt in _options.ExemptPaths)
        {
            if (path.StartsWithSegments(exempt, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    // Written by hand because not every service registers IProblemDetailsService; same shapes as the gateway's (V2 under /v2, RFC 7807 elsewhere).
    private static Task WriteRefusalAsync(HttpContext context, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "MlPlatform-Internal";
        if (context.Request.Path.StartsWithSegments("/v2"))
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = detail }));
        }
        context.Response.ContentType = "application/problem+json";
        var problem = new Dictionary<string, object>
        {
            ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.2",
            ["title"] = "Unauthorized",
            ["status"] = StatusCodes.Status401Unauthorized,
            ["detail"] = detail,
            ["traceId"] = System.Diagnostics.Activity.Current?.Id ?? context.TraceIdentifier,
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(problem));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path}: no valid internal credential (header present: {HeaderPresent}).")]
    private static partial void LogRefused(ILogger logger, string method, string path, bool headerPresent);
}

/// <summary>The internal credential held as a SHA-256 digest and compared in constant time.</summary>
public sealed class InternalCredential
{
    private readonly byte[] _digest;

    private InternalCredential(string key) => _digest = SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The credential for <paramref name="key"/>, or null when none is configured.</summary>
    public static InternalCredential? FromKey(string? key) => string.IsNullOrEmpty(key) ? null : new InternalCredential(key);

    /// <summary>Whether <paramref name="presented"/> is the credential; the time taken does not depend on where they differ.</summary>
    public bool Matches(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), digest);
        return CryptographicOperations.FixedTimeEquals(digest, _digest);
    }
}

/// <summary>Puts the check first in every service's pipeline, so services need no code for it.</summary>
internal sealed class InternalCredentialStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<InternalCredentialMiddleware>();
        next(app);
    };
}
