using System.ComponentModel;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using MlPlatform.Cli.Gateway;
using MlPlatform.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;
using static MlPlatform.Cli.Gateway.GatewayClient;

namespace MlPlatform.Cli.Commands;

public sealed class PayloadsSettings : ModelNameSettings
{
    [CommandOption("--version <VERSION>")]
    [Description("Version whose log is read")]
    public int Version { get; init; }

    [CommandOption("--since <DURATION>")]
    [Description("How far back, e.g. 15m, 1h, 24h (default 1h)")]
    public string Since { get; init; } = "1h";

    [CommandOption("--limit <N>")]
    [Description("Most records printed (server default 1000)")]
    public int? Limit { get; init; }

    public override ValidationResult Validate() => Version < 1
        ? ValidationResult.Error("--version is required: the payload log is kept per version.")
        : ValidationResult.Success();
}

/// <summary><c>mlp payloads</c>: streams a version's payload log (JSON lines) to stdout.</summary>
public sealed class PayloadsCommand : GatewayCommand<PayloadsSettings>
{
    protected override async Task<int> RunAsync(PayloadsSettings settings, GatewayClient client, CancellationToken ct)
    {
        var query = $"from={Uri.EscapeDataString(settings.Since)}" + (settings.Limit is { } limit ? $"&limit={limit}" : "");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/models/{Escape(settings.Name)}/versions/{settings.Version}/payloads?{query}");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await using var stdout = Console.OpenStandardOutput();
        await body.CopyToAsync(stdout, ct);
        return ExitCodes.Ok;
    }
}

public sealed class FeedbackSettings : ModelNameSettings
{
    [CommandArgument(1, "<FILE>")]
    [Description("Labels: JSON lines ({\"id\", \"label\"} per line) or a JSON array; - for stdin")]
    public string File { get; init; } = "";
}

/// <summary><c>mlp feedback</c>: sends ground-truth labels for logged requests.</summary>
public sealed class FeedbackCommand : GatewayCommand<FeedbackSettings>
{
    protected override async Task<int> RunAsync(FeedbackSettings settings, GatewayClient client, CancellationToken ct)
    {
        var stdin = settings.File == CliApp.StdinArgument;
        if (!stdin && !System.IO.File.Exists(settings.File))
        {
            Printer.Error($"{settings.File} does not exist.");
            return ExitCodes.Usage;
        }
        var bytes = stdin ? await ReadStdinAsync(ct) : await System.IO.File.ReadAllBytesAsync(settings.File, ct);
        var array = bytes.AsSpan().TrimStart(" \t\r\n"u8) is [(byte)'[', ..];
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/models/{Escape(settings.Name)}/feedback")
        {
            Content = new ByteArrayContent(bytes),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(array ? "application/json" : "application/x-ndjson");
        var result = await client.SendJsonAsync(request, ct);
        if (settings.Json)
        {
            Printer.Json(result);
            return ExitCodes.Ok;
        }
        Printer.Line($"Stored {Printer.E(result?["accepted"])} labels for {Printer.E(settings.Name)} "
            + $"({Printer.E(result?["replaced"])} replaced, {Printer.E(result?["unknown"])} for ids not logged yet).");
        return ExitCodes.Ok;
    }

    private static async Task<byte[]> ReadStdinAsync(CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await using var stdin = Console.OpenStandardInput();
        await stdin.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }
}

public sealed class QualitySettingsArgs : ModelNameSettings
{
    [CommandOption("--version <VERSION>")]
    [Description("Version judged (default: production)")]
    public int? Version { get; init; }

    [CommandOption("--window <DURATION>")]
    [Description("Window, e.g. 15m, 1h, 24h (default 1h)")]
    public string Window { get; init; } = "1h";
}

/// <summary><c>mlp quality</c>: a version's online quality beside its baseline's.</summary>
public sealed class QualityCommand : GatewayCommand<QualitySettingsArgs>
{
    protected override async Task<int> RunAsync(QualitySettingsArgs settings, GatewayClient client, CancellationToken ct)
    {
        var version = settings.Version;
        if (version is null)
        {
            var model = await client.GetJsonAsync($"v1/models/{Escape(settings.Name)}", ct);
            version = model?["aliases"]?.AsArray().FirstOrDefault(a => (string?)a?["name"] == "production")?["version"]?.GetValue<int>();
            if (version is null)
            {
                Printer.Error($"{settings.Name} has no production version; pass --version.");
                return ExitCodes.Usage;
            }
        }
        var report = await client.GetJsonAsync($"v1/models/{Escape(settings.Name)}/versions/{version}/quality?window={Uri.EscapeDataString(settings.Window)}", ct);
        if (settings.Json)
        {
            Printer.Json(report);
            return ExitCodes.Ok;
        }
        var table = Printer.NewTable("version", "logged", "labelled", "coverage", "accuracy", "MAE", "RMSE");
        AddRow(table, report?["version"], report?["figures"]);
        if (report?["baseline"] is JsonObject baseline)
        {
            AddRow(table, $"{report["baselineVersion"]} (baseline)", baseline);
        }
        Printer.Line($"{Printer.E(settings.Name)}: {Printer.E(report?["task"])} on {Printer.E(report?["output"])} over {Printer.E(report?["window"])}");
        Printer.Write(table);
        return ExitCodes.Ok;
    }

    private static void AddRow(Table table, object? version, JsonNode? figures) =>
        table.AddCells(version, figures?["logged"], figures?["labelled"], figures?["coverage"], figures?["accuracy"], figures?["mae"], figures?["rmse"]);
}

public sealed class ShadowSetSettings : ModelNameSettings
{
    [CommandArgument(1, "<VERSION>")]
    [Description("Version that receives the copies")]
    public int Version { get; init; }

    [CommandOption("--weight <PERCENT>")]
    [Description("Share of production requests copied to it (0-100)")]
    public int Weight { get; init; } = 10;

    [CommandOption("--reason <TEXT>")]
    [Description("Why (recorded in the alias history); default 'shadow traffic'")]
    public string Reason { get; init; } = "shadow traffic";

    public override ValidationResult Validate() => Weight is < 0 or > 100
        ? ValidationResult.Error("--weight is a percentage of production requests, 0-100.")
        : ValidationResult.Success();
}

/// <summary><c>mlp shadow set</c>: points the shadow alias at a version with the share of production traffic copied to it.</summary>
public sealed class ShadowSetCommand : GatewayCommand<ShadowSetSettings>
{
    protected override async Task<int> RunAsync(ShadowSetSettings settings, GatewayClient client, CancellationToken ct)
    {
        var body = new JsonObject { ["version"] = settings.Version, ["weight"] = settings.Weight, ["reason"] = settings.Reason };
        var alias = await client.SendJsonAsync(HttpMethod.Put, $"v1/models/{Escape(settings.Name)}/aliases/shadow", body, ct);
        if (settings.Json)
        {
            Printer.Json(alias);
            return ExitCodes.Ok;
        }
        Printer.Line($"{Printer.E(settings.Name)} version {settings.Version} now receives a copy of {settings.Weight}% of production's requests; "
            + $"compare with: curl .../v1/models/{Printer.E(settings.Name)}/versions/{settings.Version}/shadow");
        return ExitCodes.Ok;
    }
}
