namespace MlPlatform.Gateway.Auth;

/// <summary>Says at start which key ids the gateway accepts (never the keys), and warns when it accepts none.</summary>
internal sealed partial class ApiKeyStartupReport(ApiKeyStore keys, Microsoft.Extensions.Options.IOptions<ApiKeyOptions> options, ILogger<ApiKeyStartupReport> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            LogNoKeys(logger);
        }
        else
        {
            LogKeys(logger, keys.Count, string.Join(", ", options.Value.Keys.Where(k => !k.Value.IsUnset).Select(k => $"{k.Key} ({k.Value.Role})")));
        }
        foreach (var (id, _) in options.Value.Keys.Where(k => k.Value.IsUnset))
        {
            LogUnset(logger, id);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "No API key is configured: every request but health checks will be refused with 401. Set the AppHost parameter 'admin-api-key'.")]
    private static partial void LogNoKeys(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "API key '{KeyId}' has no key or digest configured; that id accepts nothing.")]
    private static partial void LogUnset(ILogger logger, string keyId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Accepting {Count} API keys: {KeyIds}.")]
    private static partial void LogKeys(ILogger logger, int count, string keyIds);
}
