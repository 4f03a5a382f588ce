using System.ComponentModel;
using System.Text.Json.Nodes;
using MlPlatform.Cli.Gateway;
using MlPlatform.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;
using static MlPlatform.Cli.Gateway.GatewayClient;

namespace MlPlatform.Cli.Commands;

public sealed class RolloutStartSettings : ModelNameSettings
{
    [CommandArgument(1, "<VERSION>")]
    [Description("Version to roll out (through the canary alias, step by step)")]
    public int Version { get; init; }

    [CommandOption("--steps <PERCENTS>")]
    [Description("Canary weights, comma separated, e.g. 10,25,50,100 (server default when omitted)")]
    public string? Steps { get; init; }

    [CommandOption("--step-interval <DURATION>")]
    [Description("Time per step, e.g. 30s, 5m")]
    public string? StepInterval { get; init; }

    [CommandOption("--max-error-rate <RATE>")]
    [Description("Error rate (0-1) above which the rollout rolls back")]
    public double? MaxErrorRate { get; init; }

    [CommandOption("--max-p99-ms <MS>")]
    [Description("p99 latency (ms) above which the rollout rolls back")]
    public double? MaxP99Ms { get; init; }

    [CommandOption("--min-requests <N>")]
    [Description("Requests a step needs before it is judged")]
    public int? MinRequests { get; init; }

    [CommandOption("--deadline <DURATION>")]
    [Description("Give up (fail) after this long, e.g. 10m")]
    public string? Deadline { get; init; }

    [CommandOption("--force")]
    [Description("Roll out even a version whose signature breaks production's clients (refused otherwise; recorded as forced)")]
    public bool Force { get; init; }

    [CommandOption("--reason <TEXT>")]
    [Description("Why (recorded as the rollout's startReason and in the canary's alias history)")]
    public string? Reason { get; init; }

    public override ValidationResult Validate() =>
        Steps is not null && Steps.Split(',').Any(s => !int.TryParse(s, out var p) || p is < 1 or > 100)
            ? ValidationResult.Error("--steps must be comma-separated percentages 1-100, e.g. 10,25,50,100.")
            : ValidationResult.Success();
}

public sealed class RolloutStartCommand : GatewayCommand<RolloutStartSettings>
{
    protected override async Task<int> RunAsync(RolloutStartSettings settings, GatewayClient client, CancellationToken ct)
    {
        var body = new JsonObject { ["version"] = settings.Version };
        if (settings.Steps is not null)
        {
            body["steps"] = new JsonArray(settings.Steps.Split(',').Select(s => (JsonNode?)int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        }
        if (settings.StepInterval is not null) body["stepInterval"] = settings.StepInterval;
        if (settings.MaxErrorRate is { } rate) body["maxErrorRate"] = rate;
        if (settings.MaxP99Ms is { } p99) body["maxP99Ms"] = p99;
        if (settings.MinRequests is { } min) body["minRequests"] = min;
        if (settings.Deadline is not null) body["deadline"] = settings.Deadline;
        if (settings.Force) body["force"] = true;
        if (settings.Reason is not null) body["reason"] = settings.Reason;

        var rollout = await client.SendJsonAsync(HttpMethod.Post, $"v1/models/{Escape(settings.Name)}/rollouts", body, ct);
        if (settings.Json)
        {
            Printer.Json(rollout);
            return ExitCodes.Ok;
        }
        Printer.Line($"Started rollout [bold]{Printer.E(rollout?["id"])}[/] of {Printer.E(settings.Name)} version {settings.Version}; "
            + $"follow it with: mlp rollout status {Printer.E(settings.Name)} {Printer.E(rollout?["id"])}");
        return ExitCodes.Ok;
    }
}

public class RolloutSettings : ModelNameSettings
{
    [CommandArgument(1, "<ID>")]
    [Description("Rollout id (from 'mlp rollout start')")]
    public string Id { get; init; } = "";
}

public sealed class RolloutStatusCommand : GatewayCommand<RolloutSettings>
{
    protected override async Task<int> RunAsync(RolloutSettings settings, GatewayClient client, CancellationToken ct)
    {
        var rollout = await client.GetJsonAsync($"v1/models/{Escape(settings.Name)}/rollouts/{Escape(settings.Id)}", ct);
        if (settings.Json)
        {
            Printer.Json(rollout);
        }
        else if (rollout is JsonObject obj)
        {
            Printer.Object(obj, $"rollout {settings.Id}");
        }
        return ExitCodes.Ok;
    }
}

public sealed class RolloutAbortSettings : RolloutSettings
{
    [CommandOption("--reason <TEXT>")]
    [Description("Why (recorded in the rollout's reason and the canary's alias history)")]
    public string? Reason { get; init; }
}

public sealed class RolloutAbortCommand : GatewayCommand<RolloutAbortSettings>
{
    protected override async Task<int> RunAsync(RolloutAbortSettings settings, GatewayClient client, CancellationToken ct)
    {
        var query = settings.Reason is null ? "" : $"?reason={Uri.EscapeDataString(settings.Reason)}";
        var rollout = await client.SendJsonAsync(HttpMethod.Delete, $"v1/models/{Escape(settings.Name)}/rollouts/{Escape(settings.Id)}{query}", null, ct);
        if (settings.Json)
        {
            Printer.Json(rollout);
        }
        else
        {
            Printer.Line($"Aborted rollout [bold]{Printer.E(settings.Id)}[/] of {Printer.E(settings.Name)}"
                + (rollout?["status"] is { } status ? $" ({Printer.E(status)})" : ""));
        }
        return ExitCodes.Ok;
    }
}

public sealed class RolloutListCommand : GatewayCommand<ModelNameSettings>
{
    protected override async Task<int> RunAsync(ModelNameSettings settings, GatewayClient client, CancellationToken ct)
    {
        var rollouts = await client.GetJsonAsync($"v1/models/{Escape(settings.Name)}/rollouts", ct);
        if (settings.Json)
        {
            Printer.Json(rollouts);
            return ExitCodes.Ok;
        }
        var table = Printer.NewTable("id", "kind", "version", "status", "step", "weight", "created", "reason");
        foreach (var r in (rollouts as JsonArray ?? rollouts?["items"] as JsonArray ?? []).OfType<JsonObject>())
        {
            table.AddCells(r["id"], r["kind"], r["version"], r["status"], r["currentStep"], r["currentWeight"], r["createdAt"], r["reason"]);
        }
        Printer.Write(table);
        return ExitCodes.Ok;
    }
}

public sealed class AlertsSettings : GlobalSettings
{
    [CommandOption("--status <STATUS>")]
    [Description("firing or resolved (default: all)")]
    public string? Status { get; init; }

    [CommandOption("--limit <N>")]
    [Description("At most N alerts (server default 100, 1-1000)")]
    public int? Limit { get; init; }
}

public sealed class AlertsCommand : GatewayCommand<AlertsSettings>
{
    protected override async Task<int> RunAsync(AlertsSettings settings, GatewayClient client, CancellationToken ct)
    {
        var query = new List<string>();
        if (settings.Status is not null)
        {
            query.Add("status=" + Escape(settings.Status));
        }
        if (settings.Limit is { } limit)
        {
            query.Add($"limit={limit}");
        }
        var alerts = await client.GetJsonAsync("v1/alerts" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), ct);
        if (settings.Json)
        {
            Printer.Json(alerts);
            return ExitCodes.Ok;
        }
        // A bare array or a page with items: whichever the registry answers.
        var items = alerts as JsonArray ?? alerts?["items"] as JsonArray ?? [];
        if (items.Count == 0)
        {
            Printer.Line("No alerts.");
        }
        else
        {
            Printer.Array(items);
        }
        return ExitCodes.Ok;
    }
}
