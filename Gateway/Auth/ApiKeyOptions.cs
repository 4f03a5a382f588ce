using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MlPlatform.Gateway.Auth;

/// <summary>
/// The gateway's API keys, by key id. The id (never the key) is what backends see as the caller (<c>X-MlPlatform-Actor</c>).
/// The AppHost fills <c>admin</c>, <c>operator</c> and <c>reader</c> from its secret parameters; more keys come from configuration:
/// <c>ApiKeys:Keys:ci-bot:Role=operator</c> with either <c>Key</c> (the key itself) or <c>Sha256</c> (its hex digest, so the key never sits in configuration).
/// </summary>
public sealed class ApiKeyOptions
{
    public const string SectionName = "ApiKeys";

    /// <summary>Shortest key accepted: 16 characters. Generated keys are 43.</summary>
    public const int MinimumKeyLength = 16;

    /// <summary>Keys by id. Default: none, which outside Development stops the gateway from starting.</summary>
    public Dictionary<string, ApiKeyEntry> Keys { get; set; } = new(StringComparer.Ordinal);
}

public sealed class ApiKeyEntry
{
    /// <summary>reader, operator or admin.</summary>
    [Required]
    public string Role { get; set; } = "";

    /// <summary>The key in clear; hashed at start. Give this or <see cref="Sha256"/>.</summary>
    public string? Key { get; set; }

    /// <summary>The SHA-256 of the key's UTF-8 bytes as 64 hex digits. Give this or <see cref="Key"/>.</summary>
    public string? Sha256 { get; set; }
}

internal sealed class ApiKeyOptionsValidator(IHostEnvironment environment) : IValidateOptions<ApiKeyOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiKeyOptions options)
    {
        var failures = new List<string>();
        if (options.Keys.Count == 0 && !environment.IsDevelopment())
        {
            failures.Add("No API key is configured, and outside Development the gateway refuses to start without one. " +
                "Set the AppHost parameter 'admin-api-key' (Parameters__admin-api-key=... or user secrets) or ApiKeys:Keys:<id>.");
        }
        foreach (var (id, entry) in options.Keys)
        {
            if (!GatewayRoles.IsKnown(entry.Role))
            {
                failures.Add($"ApiKeys:Keys:{id}:Role is '{entry.Role}'; it must be one of {string.Join(", ", GatewayRoles.All)}.");
            }
            var hasKey = !string.IsNullOrEmpty(entry.Key);
            var hasDigest = !string.IsNullOrEmpty(entry.Sha256);
            if (hasKey == hasDigest)
            {
                failures.Add($"ApiKeys:Keys:{id} needs exactly one of Key or Sha256.");
            }
            else if (hasKey && entry.Key!.Length < ApiKeyOptions.MinimumKeyLength)
            {
                failures.Add($"ApiKeys:Keys:{id}:Key is shorter than {ApiKeyOptions.MinimumKeyLength} characters.");
            }
            else if (hasDigest && !ApiKeyStore.IsSha256Hex(entry.Sha256!))
            {
                failures.Add($"ApiKeys:Keys:{id}:Sha256 must be 64 hexadecimal digits.");
            }
        }
        if (failures.Count == 0 && ApiKeyStore.FindDuplicateDigest(options) is { } duplicate)
        {
            failures.Add($"ApiKeys:Keys:{duplicate.First} and ApiKeys:Keys:{duplicate.Second} are the same key; each key must identify one caller.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
