using System.ComponentModel;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using MlPlatform.Cli.Gateway;
using MlPlatform.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;
using static MlPlatform.Cli.Gateway.GatewayClient;

namespace MlPlatform.Cli.Commands;

public sealed class BatchSubmitSettings : ModelNameSettings
{
    [CommandArgument(1, "<INPUT>")]
    [Description("Input rows: a .csv or .jsonl file")]
    public string Input { get; init; } = "";

    [CommandOption("--version <VERSION>")]
    [Description("Pin this version (default: the production alias, resolved at submission)")]
    public int? Version { get; init; }

    [CommandOption("--alias <ALIAS>")]
    [Description("Resolve this alias instead of production")]
    public string? Alias { get; init; }

    [CommandOption("--format <FORMAT>")]
    [Description("csv or jsonl (default: from the file extension)")]
    public string? Format { get; init; }

    [CommandOption("--output <NAME>")]
    [Description("Keep only this model output; repeat for more")]
    public string[] Outputs { get; init; } = [];

    [CommandOption("--chunk-size <ROWS>")]
    public int? ChunkSize { get; init; }

    [CommandOption("--fail-fast")]
    [Description("Fail the job at its first bad row")]
    public bool FailFast { get; init; }

    [CommandOption("--wait")]
    [Description("Wait until the job finishes, with a live progress bar (exit 2 if it fails or is cancelled)")]
    public bool Wait { get; init; }

    [CommandOption("-q|--quiet")]
    [Description("Print only the job id (for scripts: JOB=$(mlp batch submit … -q))")]
    public bool Quiet { get; init; }

    public string ResolvedFormat => Format ?? Path.GetExtension(Input).ToLowerInvariant() switch
    {
        ".csv" => "csv",
        _ => "jsonl",
    };

    public override ValidationResult Validate()
    {
        if (!File.Exists(Input))
        {
            return ValidationResult.Error($"File '{Input}' does not exist.");
        }
        if (Version is not null && Alias is not null)
        {
            return ValidationResult.Error("Give --version or --alias, not both.");
        }
        return ResolvedFormat is "csv" or "jsonl" ? ValidationResult.Success() : ValidationResult.Error("--format must be csv or jsonl.");
    }
}

public sealed class BatchSubmitCommand : GatewayCommand<BatchSubmitSettings>
{
    protected override async Task<int> RunAsync(BatchSubmitSettings settings, GatewayClient client, CancellationToken ct)
    {
        var spec = new JsonObject
        {
            ["model"] = settings.Name,
            ["input"] = new JsonObject { ["format"] = settings.ResolvedFormat },
            ["failFast"] = settings.FailFast,
        };
        if (settings.Version is { } version)
        {
            spec["version"] = version;
        }
        if (settings.Alias is not null)
        {
            spec["alias"] = settings.Alias;
        }
        if (settings.Outputs.Length > 0)
        {
            spec["outputs"] = new JsonArray(settings.Outputs.Select(o => (JsonNode?)o).ToArray());
        }
        if (settings.ChunkSize is { } chunkSize)
        {
            spec["chunkSize"] = chunkSize;
        }

        var size = new FileInfo(settings.Input).Length;
        var job = await Transfers.UploadAsync($"Uploading {Path.GetFileName(settings.Input)}", size, ShowProgress(settings), async progress =>
        {
            var specPart = new StringContent(spec.ToJsonString(), Encoding.UTF8, "application/json");
            var inputPart = new StreamContent(new ProgressStream(File.OpenRead(settings.Input), progress), 81920);
            inputPart.Headers.ContentType = new MediaTypeHeaderValue(settings.ResolvedFormat == "csv" ? "text/csv" : "application/x-ndjson");
            inputPart.Headers.ContentLength = size;
            var form = new MultipartFormDataContent { { specPart, "spec" }, { inputPart, "input", Path.GetFileName(settings.Input) } };
            return await client.SendJsonAsync(new HttpRequestMessage(HttpMethod.Post, "v1/batch/jobs") { Content = form }, ct);
        });
        var id = job?["id"]?.ToString() ?? throw new CliException(ExitCodes.Unreachable, "The gateway accepted the job but returned no id.");

        if (!settings.Wait)
        {
            if (settings.Quiet)
            {
                Console.Out.WriteLine(id);
            }
            else if (settings.Json)
            {
                Printer.Json(job);
            }
            else
            {
                Printer.Line($"Submitted job [bold]{Printer.E(id)}[/] ({Printer.E(job?["status"])}); follow it with: mlp batch status {Printer.E(id)}");
            }
            return ExitCodes.Ok;
        }

        var final = await BatchWaiter.WaitAsync(client, id, ShowProgress(settings) && !settings.Quiet, ct);
        if (settings.Quiet)
        {
            Console.Out.WriteLine(id);
        }
        return BatchStatusCommand.Report(final, settings.Json, print: !settings.Quiet);
    }
}

/// <summary>Polls a job until it finishes, drawing rows done, rows/s and the ETA the batch scorer computes.</summary>
internal static class BatchWaiter
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static async Task<JsonNode?> WaitAsync(GatewayClient client, string id, bool show, CancellationToken ct)
    {
        var path = $"v1/batch/jobs/{Escape(id)}";
        if (!show)
        {
            while (true)
            {
                var job = await client.GetJsonAsync(path, ct);
                if (IsFinished(job))
                {
                    return job;
                }
                await Task.Delay(PollInterval, ct);
            }
        }

        JsonNode? last = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask($"Job {Markup.Escape(id)}", maxValue: 1);
                var watch = Stopwatch.StartNew();
                while (true)
                {
                    last = await client.GetJsonAsync(path, ct);
                    var total = (double?)last?["rowsTotal"] ?? 0;
                    var done = (double?)last?["rowsDone"] ?? 0;
                    task.MaxValue = Math.Max(1, total);
                    task.Value = done;
                    var rate = (double?)last?["rowsPerSecond"];
                    var eta = (double?)last?["etaSeconds"];
                    task.Description = Markup.Escape(
                        $"Job {id} {last?["status"]}: {done:N0}/{total:N0} rows"
                        + (rate is { } r ? $", {r:N0} rows/s" : "")
                        + (eta is { } e ? $", ETA {TimeSpan.FromSeconds(Math.Ceiling(e)):g}" : ""));
                    if (IsFinished(last))
                    {
                        return;
                    }
                    await Task.Delay(PollInterval, ct);
                }
            });
        return last;
    }

    private static bool IsFinished(JsonNode? job) => job?["status"]?.ToString() is "succeeded" or "failed" or "cancelled";
}

public class BatchJobSettings : GlobalSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("Job id")]
    public string Id { get; init; } = "";
}

public sealed class BatchStatusCommand : GatewayCommand<BatchJobSettings>
{
    protected override async Task<int> RunAsync(BatchJobSettings settings, GatewayClient client, CancellationToken ct)
    {
        var job = await client.GetJsonAsync($"v1/batch/jobs/{Escape(settings.Id)}", ct);
        if (settings.Json)
        {
            Printer.Json(job);
        }
        else
        {
            Print(job);
        }
        return ExitCodes.Ok;
    }

    internal static void Print(JsonNode? job)
    {
        var table = Printer.NewTable("field", "value");
        foreach (var field in new[] { "id", "status", "model", "version", "alias", "format", "rowsTotal", "rowsDone", "rowsFailed",
                     "chunksTotal", "chunksDone", "rowsPerSecond", "etaSeconds", "error", "createdAt", "startedAt", "finishedAt" })
        {
            table.AddCells(field, job?[field]);
        }
        Printer.Write(table);
    }

    /// <summary>The end of <c>submit --wait</c>: a finished job that did not succeed is a refusal (exit 2) with its error.</summary>
    internal static int Report(JsonNode? job, bool json, bool print = true)
    {
        if (print && json)
        {
            Printer.Json(job);
        }
        else if (print)
        {
            Print(job);
        }
        var status = job?["status"]?.ToString();
        if (status == "succeeded")
        {
            return ExitCodes.Ok;
        }
        Printer.Error($"Job {job?["id"]} {status}{(job?["error"] is JsonValue e ? ": " + e : ".")}");
        return ExitCodes.Refused;
    }
}

public sealed class BatchCancelCommand : GatewayCommand<BatchJobSettings>
{
    protected override async Task<int> RunAsync(BatchJobSettings settings, GatewayClient client, CancellationToken ct)
    {
        var job = await client.SendJsonAsync(HttpMethod.Delete, $"v1/batch/jobs/{Escape(settings.Id)}", null, ct);
        if (settings.Json)
        {
            Printer.Json(job);
        }
        else
        {
            // A finished job is removed (204, no body) rather than cancelled.
            Printer.Line($"Job [bold]{Printer.E(settings.Id)}[/] {Printer.E(job is null ? "removed" : (object?)job["status"])}");
        }
        return ExitCodes.Ok;
    }
}

public sealed class BatchResultsSettings : BatchJobSettings
{
    [CommandOption("--format <FORMAT>")]
    [Description("jsonl (default) or csv")]
    public string Format { get; init; } = "jsonl";

    [CommandOption("-o|--out <FILE>")]
    [Description("Write the results to FILE instead of stdout")]
    public string? Out { get; init; }

    public override ValidationResult Validate() => Format is "csv" or "jsonl"
        ? ValidationResult.Success()
        : ValidationResult.Error("--format must be csv or jsonl.");
}

public sealed class BatchResultsCommand : GatewayCommand<BatchResultsSettings>
{
    protected override async Task<int> RunAsync(BatchResultsSettings settings, GatewayClient client, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"v1/batch/jobs/{Escape(settings.Id)}/results?format={settings.Format}");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        // Streamed: results of a large job never sit in memory.
        if (settings.Out is null)
        {
            await using var stdout = Console.OpenStandardOutput();
            await body.CopyToAsync(stdout, ct);
        }
        else
        {
            await using var file = File.Create(settings.Out);
            await body.CopyToAsync(file, ct);
            Console.Error.WriteLine($"Wrote {file.Length} bytes to {settings.Out}"
                + (response.Headers.TryGetValues("X-Job-Status", out var status) ? $" (job {string.Join("", status)})" : ""));
        }
        return ExitCodes.Ok;
    }
}

public sealed class BatchListSettings : GlobalSettings
{
    [CommandOption("--status <STATUS>")]
    [Description("queued, running, succeeded, failed or cancelled")]
    public string? Status { get; init; }
}

public sealed class BatchListCommand : GatewayCommand<BatchListSettings>
{
    protected override async Task<int> RunAsync(BatchListSettings settings, GatewayClient client, CancellationToken ct)
    {
        var page = await client.GetJsonAsync("v1/batch/jobs?pageSize=100" + (settings.Status is null ? "" : "&status=" + Escape(settings.Status)), ct);
        if (settings.Json)
        {
            Printer.Json(page);
            return ExitCodes.Ok;
        }
        var table = Printer.NewTable("id", "status", "model", "version", "rows", "failed", "created");
        foreach (var job in page?["items"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            table.AddCells(job["id"], job["status"], job["model"], job["version"], $"{job["rowsDone"]}/{job["rowsTotal"]}", job["rowsFailed"], job["createdAt"]);
        }
        Printer.Write(table);
        return ExitCodes.Ok;
    }
}
