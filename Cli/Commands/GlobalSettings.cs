using System.ComponentModel;
using MlPlatform.Cli.Gateway;
using Spectre.Console.Cli;

namespace MlPlatform.Cli.Commands;

/// <summary>Options every command takes: where the gateway is, the key, and machine-readable output.</summary>
public class GlobalSettings : CommandSettings
{
    [CommandOption("--url <URL>")]
    [Description("Gateway URL (else $MLP_URL, else the 'mlp login' config, else http://localhost:8000)")]
    public string? Url { get; init; }

    [CommandOption("--api-key <KEY>")]
    [Description("API key (else $MLP_API_KEY, else the 'mlp login' config)")]
    public string? ApiKey { get; init; }

    [CommandOption("--json")]
    [Description("Print the server's JSON instead of tables (for scripts)")]
    public bool Json { get; init; }

    public const string DefaultUrl = "http://localhost:8000";

    /// <summary>Options win over the environment, which wins over the config file.</summary>
    public (Uri Url, string? ApiKey) Resolve()
    {
        var config = Url is null || ApiKey is null ? CliConfig.Load() : null;
        var url = Url ?? Env("MLP_URL") ?? config?.Url ?? DefaultUrl;
        var key = ApiKey ?? Env("MLP_API_KEY") ?? config?.ApiKey;
        if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new CliException(ExitCodes.Usage, $"'{url}' is not an http(s) URL; give the gateway as e.g. --url http://localhost:8000.");
        }
        return (uri, key);
    }

    public GatewayClient CreateClient()
    {
        var (url, key) = Resolve();
        return new GatewayClient(url, key);
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}

/// <summary>The model name as first argument: settings on their own for `models show` and `rollout list`, the base of every other command about one model.</summary>
public class ModelNameSettings : GlobalSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("Model name")]
    public string Name { get; init; } = "";
}
