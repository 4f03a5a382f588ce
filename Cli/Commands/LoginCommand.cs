using MlPlatform.Cli.Gateway;
using MlPlatform.Cli.Output;
using Spectre.Console;

namespace MlPlatform.Cli.Commands;

public sealed class LoginCommand : GatewayCommand<GlobalSettings>
{
    protected override async Task<int> RunAsync(GlobalSettings settings, GatewayClient client, CancellationToken ct)
    {
        var (url, key) = settings.Resolve();
        if (key is null)
        {
            if (!AnsiConsole.Profile.Capabilities.Interactive)
            {
                throw new CliException(ExitCodes.Usage, "No API key: pass --api-key or set $MLP_API_KEY.");
            }
            key = await AnsiConsole.PromptAsync(new TextPrompt<string>($"API key for {Markup.Escape(url.ToString())}:").Secret(), ct);
        }
        // Checked before it is saved, so a typo is caught now rather than at the next command.
        using (var check = new GatewayClient(url, key))
        {
            await check.GetJsonAsync("v1/models?pageSize=1", ct);
        }
        new CliConfig(url.ToString().TrimEnd('/'), key).Save();
        if (settings.Json)
        {
            Printer.Json(new System.Text.Json.Nodes.JsonObject { ["url"] = url.ToString().TrimEnd('/'), ["configFile"] = CliConfig.FilePath });
        }
        else
        {
            Printer.Line($"Logged in to {Printer.E(url)}; saved to {Printer.E(CliConfig.FilePath)} (mode 600).");
        }
        return ExitCodes.Ok;
    }
}
