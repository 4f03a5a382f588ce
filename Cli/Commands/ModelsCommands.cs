using System.ComponentModel;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using MlPlatform.Cli.Gateway;
using MlPlatform.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;
using static MlPlatform.Cli.Gateway.GatewayClient;

namespace MlPlatform.Cli.Commands;

public sealed class ModelsListSettings : GlobalSettings
{
    [CommandOption("--prefix <PREFIX>")]
    [Description("Only models whose name starts with PREFIX")]
    public string? Prefix { get; init; }

    [CommandOption("--tag <K=V>")]
    [Description("Only models with a version tagged K=V")]
    public string? Tag { get; init; }
}

public sealed class ModelsListCommand : GatewayCommand<ModelsListSettings>
{
    protected override async Task<int> RunAsync(ModelsListSettings settings, GatewayClient client, CancellationToken ct)
    {
        var query = "v1/models?pageSize=500"
            + (settings.Prefix is null ? "" : "&prefix=" + Escape(settings.Prefix))
            + (settings.Tag is null ? "" : "&tag=" + Escape(settings.Tag));
        var page = await client.GetJsonAsync(query, ct);
        if (settings.Json)
        {
            Printer.Json(page);
            return ExitCodes.Ok;
        }
        var table = Printer.NewTable("model", "latest", "aliases", "created");
        foreach (var model in page?["items"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            table.AddCells(model["name"], model["latestVersion"], Aliases(model["aliases"]), model["createdAt"]);
        }
        Printer.Write(table);
        return ExitCodes.Ok;
    }

    internal static string Aliases(JsonNode? aliases) => string.Join(", ",
        aliases?.AsArray().OfType<JsonObject>().Select(a =>
            $"{a["name"]}→v{a["version"]}{(a["weight"] is JsonValue w && w.GetValueKind() == System.Text.Json.JsonValueKind.Number ? $" ({w}%)" : "")}") ?? []);
}

public sealed class ModelsShowCommand : GatewayCommand<ModelNameSettings>
{
    protected override async Task<int> RunAsync(ModelNameSettings settings, GatewayClient client, CancellationToken ct)
    {
        var model = await client.GetJsonAsync($"v1/models/{Escape(settings.Name)}", ct);
        if (settings.Json)
        {
            Printer.Json(model);
            return ExitCodes.Ok;
        }
        Printer.Line($"[bold]{Printer.E(model?["name"])}[/]  latest v{Printer.E(model?["latestVersion"])}  aliases: {Printer.E(ModelsListCommand.Aliases(model?["aliases"]))}");
        var table = Printer.NewTable("version", "sha256", "size", "inputs", "outputs", "created", "description", "tags", "archived");
        foreach (var version in model?["versions"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            table.AddCells(version["version"], version["sha256"]?.ToString()[..12], version["sizeBytes"],
                Tensors(version["signature"]?["inputs"]), Tensors(version["signature"]?["outputs"]),
                version["createdAt"], version["description"], version["tags"], version["archived"]);
        }
        Printer.Write(table);
        return ExitCodes.Ok;
    }

    private static string Tensors(JsonNode? tensors) => string.Join("\n",
        tensors?.AsArray().OfType<JsonObject>().Select(t => $"{t["name"]} {t["datatype"]} {t["shape"]?.ToJsonString()}") ?? []);
}

// Not a ModelNameSettings: registering may create the model, so its help states the naming rule.
public sealed class ModelsRegisterSettings : GlobalSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("Model name (lower case letters, digits, '.', '_', '-')")]
    public string Name { get; init; } = "";

    [CommandArgument(1, "<FILE>")]
    [Description("The .onnx file")]
    public string File { get; init; } = "";

    [CommandOption("--description <TEXT>")]
    public string? Description { get; init; }

    [CommandOption("--tag <K=V>")]
    [Description("A tag; repeat for more")]
    public string[] Tags { get; init; } = [];

    [CommandOption("--alias <ALIAS>")]
    [Description("Point this alias (e.g. production) at the new version")]
    public string? Alias { get; init; }

    [CommandOption("--reason <TEXT>")]
    [Description("Reason recorded for --alias (default: 'registered with mlp')")]
    public string? Reason { get; init; }

    public override ValidationResult Validate()
    {
        if (!System.IO.File.Exists(File))
        {
            return ValidationResult.Error($"File '{File}' does not exist.");
        }
        return Tags.FirstOrDefault(t => !t.Contains('=')) is { } bad
            ? ValidationResult.Error($"Tag '{bad}' is not K=V.")
            : ValidationResult.Success();
    }
}

public sealed class ModelsRegisterCommand : GatewayCommand<ModelsRegisterSettings>
{
    protected override async Task<int> RunAsync(ModelsRegisterSettings settings, GatewayClient client, CancellationToken ct)
    {
        var query = new List<string>();
        if (settings.Description is not null)
        {
            query.Add("description=" + Escape(settings.Description));
        }
        if (settings.Tags.Length > 0)
        {
            query.Add("tags=" + Escape(string.Join(',', settings.Tags)));
        }
        var path = $"v1/models/{Escape(settings.Name)}/versions" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        var size = new FileInfo(settings.File).Length;

        var version = await Transfers.UploadAsync($"Uploading {Path.GetFileName(settings.File)}", size, ShowProgress(settings), async progress =>
        {
            // Streamed from disk with a known length: the registry refuses an oversized file from Content-Length alone.
            var content = new StreamContent(new ProgressStream(System.IO.File.OpenRead(settings.File), progress), 81920);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = size;
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
            return await client.SendJsonAsync(request, ct);
        });

        JsonNode? alias = null;
        if (settings.Alias is not null)
        {
            alias = await client.SendJsonAsync(HttpMethod.Put, $"v1/models/{Escape(settings.Name)}/aliases/{Escape(settings.Alias)}",
                new JsonObject { ["version"] = version?["version"]?.DeepClone(), ["reason"] = settings.Reason ?? "registered with mlp" }, ct);
        }

        if (settings.Json)
        {
            Printer.Json(version);
            return ExitCodes.Ok;
        }
        Printer.Line($"Registered [bold]{Printer.E(version?["name"])}[/] version [bold]{Printer.E(version?["version"])}[/] (sha256 {Printer.E(version?["sha256"])}, {Printer.E(version?["sizeBytes"])} bytes)");
        if (alias is not null)
        {
            Printer.Line($"Alias [bold]{Printer.E(alias["name"])}[/] → version {Printer.E(alias["version"])}");
        }
        return ExitCodes.Ok;
    }
}
