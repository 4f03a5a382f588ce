using System.ComponentModel;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlPlatform.Cli.Gateway;
using MlPlatform.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;
using static MlPlatform.Cli.Gateway.GatewayClient;

namespace MlPlatform.Cli.Commands;

public sealed class InferSettings : ModelNameSettings
{
    [CommandOption("--version <VERSION>")]
    [Description("Exactly this version (default: the production alias, or its canary share)")]
    public int? Version { get; init; }

    [CommandOption("-i|--input <FILE>")]
    [Description("V2 inference request JSON ({\"inputs\": [...]}); '-' reads stdin")]
    public string? Input { get; init; }

    [CommandOption("--grpc <URL>")]
    [Description("Call over gRPC: the gateway's gRPC address (e.g. http://localhost:8001); the same request and output as REST")]
    public string? Grpc { get; init; }

    public override ValidationResult Validate() => Input switch
    {
        // "localhost:8001" parses as a URI whose scheme is "localhost": only http and https are addresses a channel can use.
        _ when Grpc is not null && !(Uri.TryCreate(Grpc, UriKind.Absolute, out var grpcUri) && grpcUri.Scheme is "http" or "https") => ValidationResult.Error($"--grpc must be a URL such as http://localhost:8001, not '{Grpc}'."),
        null => ValidationResult.Error("--input is required: a V2 request JSON file, or '-' for stdin."),
        CliApp.StdinArgument => ValidationResult.Success(),
        _ when !File.Exists(Input) => ValidationResult.Error($"File '{Input}' does not exist."),
        _ => ValidationResult.Success(),
    };
}

public sealed class InferCommand : GatewayCommand<InferSettings>
{
    private const int MaxShownValues = 16;

    protected override async Task<int> RunAsync(InferSettings settings, GatewayClient client, CancellationToken ct)
    {
        var text = settings.Input == CliApp.StdinArgument ? await Console.In.ReadToEndAsync(ct) : await File.ReadAllTextAsync(settings.Input!, ct);
        try
        {
            JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.Usage, $"The input is not valid JSON: {ex.Message}");
        }
        JsonNode? response;
        if (settings.Grpc is { } grpc)
        {
            response = await GrpcInferClient.InferAsync(new Uri(grpc), settings.Resolve().ApiKey, settings.Name, settings.Version, JsonNode.Parse(text)!, ct);
        }
        else
        {
            response = await InferRestAsync(settings, client, text, ct);
        }
        if (settings.Json)
        {
            Printer.Json(response);
            return ExitCodes.Ok;
        }
        Printer.Line($"[bold]{Printer.E(response?["model_name"])}[/] version {Printer.E(response?["model_version"])}");
        var table = Printer.NewTable("output", "datatype", "shape", "data");
        foreach (var output in response?["outputs"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            var data = output["data"] as JsonArray ?? [];
            var shown = string.Join(", ", data.Take(MaxShownValues).Select(Printer.Format));
            if (data.Count > MaxShownValues)
            {
                shown += $", … ({data.Count} values)";
            }
            table.AddCells(output["name"], output["datatype"], output["shape"], shown);
        }
        Printer.Write(table);
        return ExitCodes.Ok;
    }

    private static async Task<JsonNode?> InferRestAsync(InferSettings settings, GatewayClient client, string text, CancellationToken ct)
    {
        var path = settings.Version is { } v
            ? $"v2/models/{Escape(settings.Name)}/versions/{v}/infer"
            : $"v2/models/{Escape(settings.Name)}/infer";
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(text, Encoding.UTF8, "application/json") };
        return await client.SendJsonAsync(request, ct);
    }
}
