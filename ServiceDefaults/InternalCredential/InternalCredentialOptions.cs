using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The shared secret that marks a request as having come through the gateway (or from another platform service).
/// The AppHost generates it as the secret parameter <c>internal-api-key</c> and gives it to every service as <c>InternalCredential__Key</c>.
/// </summary>
public sealed class InternalCredentialOptions
{
    public const string SectionName = "InternalCredential";

    /// <summary>The request header carrying the credential between services. Never accepted from outside: the gateway strips it.</summary>
    public const string HeaderName = PlatformHeaders.InternalKey;

    /// <summary>The credential. No default: outside Development a service without one refuses to start; in Development it refuses every guarded request.</summary>
    [MinLength(32)]
    public string? Key { get; set; }

    /// <summary>Whether inbound requests must carry the credential. Default true; only the gateway (the public door, which checks API keys) turns it off.</summary>
    public bool RequireOnInbound { get; set; } = true;

    /// <summary>Paths probes and scrapers call directly, exempt from the check. Default <c>/health</c>, <c>/alive</c>, <c>/metrics</c>.</summary>
    [Required]
    public string[] ExemptPaths { get; set; } = ["/health", "/alive", "/metrics"];
}

internal sealed class InternalCredentialOptionsValidator(IHostEnvironment environment) : IValidateOptions<InternalCredentialOptions>
{
    public ValidateOptionsResult Validate(string? name, InternalCredentialOptions options)
    {
        if (string.IsNullOrEmpty(options.Key) && !environment.IsDevelopment())
        {
            return ValidateOptionsResult.Fail(
                $"{InternalCredentialOptions.SectionName}:Key is not set. Every platform service needs the internal credential " +
                "(the AppHost's 'internal-api-key' parameter) outside Development.");
        }
        return ValidateOptionsResult.Success;
    }
}
