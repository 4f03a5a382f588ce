using System.ComponentModel;
using System.Text.Json.Nodes;
using MlPlatform.Cli.Gateway;
using MlPlatform.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;
using static MlPlatform.Cli.Gateway.GatewayClient;

namespace MlPlatform.Cli.Commands;

public sealed class AliasSetSettings : ModelNameSettings
{
    [CommandArgument(1, "<ALIAS>")]
    [Description("Alias, e.g. production or canary")]
    public string Alias { get; init; } = "";

    [CommandArgument(2, "<VERSION>")]
    [Description("Version the alias points at")]
    public int Version { get; init; }

    [CommandOption("--reason <TEXT>")]
    [Description("Why (required; recorded in the alias history)")]
    public string? Reason { get; init; }

    [CommandOption("--weight <PERCENT>")]
    [Description("Share of unversioned traffic this alias takes from production (0-100; not for production itself)")]
    public int? Weight { get; init; }

    [CommandOption("--force")]
    [Description("Move production even to a version whose signature breaks production's clients (the registry refuses it otherwise; recorded as forced in the alias history)")]
    public bool Force { get; init; }

    public override ValidationResult Validate() => string.IsNullOrWhiteSpace(Reason)
        ? ValidationResult.Error("--reason is required: every alias change is recorded with its reason.")
        : ValidationResult.Success();
}

public sealed class AliasSetCommand : GatewayCommand<AliasSetSettings>
{
    protected override async Task<int> RunAsync(AliasSetSettings settings, GatewayClient client, CancellationToken ct)
    {
        var body = new JsonObject { ["version"] = settings.Version, ["reason"] = settings.Reason };
        if (settings.Weight is { } weight)
        {
            body["weight"] = weight;
        }
        if (settings.Force)
        {
            body["force"] = true;
        }
        var alias = await client.SendJsonAsync(HttpMethod.Put, $"v1/models/{Escape(settings.Name)}/aliases/{Escape(settings.Alias)}", body, ct);
        if (settings.Json)
        {
            Printer.Json(alias);
            return ExitCodes.Ok;
        }
        Printer.Line($"[bold]{Printer.E(settings.Name)}[/] {Printer.E(alias?["name"])} → version [bold]{Printer.E(alias?["version"])}[/]"
            + (alias?["weight"] is JsonValue w && w.GetValueKind() == System.Text.Json.JsonValueKind.Number ? $" (weight {w}%)" : ""));
        return ExitCodes.Ok;
    }
}

public sealed class RollbackSettings : ModelNameSettings
{
    [CommandOption("--reason <TEXT>")]
    [Description("Why (required; recorded in the alias history)")]
    public string? Reason { get; init; }

    public override ValidationResult Validate() => string.IsNullOrWhiteSpace(Reason)
        ? ValidationResult.Error("--reason is required: every rollback is recorded with its reason.")
        : ValidationResult.Success();
}

public sealed class RollbackCommand : GatewayCommand<RollbackSettings>
{
    protected override async Task<int> RunAsync(RollbackSettings settings, GatewayClient client, CancellationToken ct)
    {
        var alias = await client.SendJsonAsync(HttpMethod.Post, $"v1/models/{Escape(settings.Name)}/rollback",
            new JsonObject { ["reason"] = settings.Reason }, ct);
        if (settings.Json)
        {
            Printer.Json(alias);
            return ExitCodes.Ok;
        }
        Printer.Line($"Rolled back [bold]{Printer.E(settings.Name)}[/]: {Printer.E(alias?["name"])} → version [bold]{Printer.E(alias?["version"])}[/]");
        return ExitCodes.Ok;
    }
}
