using Microsoft.Extensions.Options;

namespace MlPlatform.ModelRegistry.Alerts;

/// <summary>
/// Stops the registry at start when a webhook URL names a target inside the platform's network (<see cref="WebhookTargets"/>), unless
/// <c>Alerts:AllowPrivateWebhookTargets</c> is set. The service names come from the platform's list and from service discovery's configuration.
/// </summary>
public sealed class WebhookTargetValidator(IConfiguration configuration) : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        if (options.AllowPrivateWebhookTargets)
        {
            return ValidateOptionsResult.Success;
        }
        var services = ServiceNames(configuration);
        var failures = new List<string>();
        for (var i = 0; i < options.Webhooks.Count; i++)
        {
            if (Uri.TryCreate(options.Webhooks[i].Url, UriKind.Absolute, out var url) && WebhookTargets.RefuseUrl(url, services) is { } reason)
            {
                failures.Add($"Alerts:Webhooks:{i}:Url ({WebhookTargets.Redact(options.Webhooks[i].Url)}) is refused: {reason}. " +
                    "Webhooks may only reach public addresses; set Alerts:AllowPrivateWebhookTargets=true to allow it.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The platform's services, and every name service discovery knows (<c>services:{name}:...</c>).</summary>
    public static IReadOnlyList<string> ServiceNames(IConfiguration configuration) =>
        [.. WebhookTargets.PlatformServices, .. configuration.GetSection("services").GetChildren().Select(c => c.Key)];
}
