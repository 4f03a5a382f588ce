using MlPlatform.Cli.Gateway;
using MlPlatform.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MlPlatform.Cli.Commands;

/// <summary>A command that calls the gateway: failures become one line on stderr and an exit code (docs/cli.md).</summary>
public abstract class GatewayCommand<TSettings> : AsyncCommand<TSettings> where TSettings : GlobalSettings
{
    public override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            using var client = settings.CreateClient();
            return await RunAsync(settings, client, cancellationToken);
        }
        catch (CliException ex)
        {
            Printer.Error(ex.Message);
            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Printer.Error("cancelled.");
            return ExitCodes.Unreachable;
        }
    }

    protected abstract Task<int> RunAsync(TSettings settings, GatewayClient client, CancellationToken ct);

    /// <summary>Progress bars only where a person watches: an interactive terminal and no <c>--json</c>.</summary>
    protected static bool ShowProgress(GlobalSettings settings) => !settings.Json && AnsiConsole.Profile.Capabilities.Interactive;
}
