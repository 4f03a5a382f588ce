using System.Text.Json;

namespace MlPlatform.IntegrationTests.Cli;

/// <summary>The <c>mlp</c> tool run as a process against the shared platform: output, JSON and exit codes (docs/cli.md).</summary>
[Collection(PlatformCollection.Name)]
public sealed class MlpCliTests(PlatformFixture platform)
{
    private const string IrisRequest = """{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2,6.7,3.0,5.2,2.3]}]}""";

    [Fact]
    public async Task RegisterInferBatchPromoteAndRollBackWorkFromTheTerminal()
    {
        using var mlp = MlpTool.For(platform);
        var name = RegistryTestSupport.UniqueName("cli-flow");

        // Version 1, made production by the register command itself.
        var registered = await mlp.RunAsync("models", "register", name, RegistryTestSupport.IrisModel,
            "--description", "iris from the cli", "--tag", "team=cli", "--alias", "production", "--json");
        Assert.True(registered.ExitCode == 0, registered.ToString());
        using (var version = JsonDocument.Parse(registered.Stdout))
        {
            Assert.Equal(1, version.RootElement.GetProperty("version").GetInt32());
            Assert.Equal("cli", version.RootElement.GetProperty("tags").GetProperty("team").GetString());
        }
        var second = await mlp.RunAsync("models", "register", name, RegistryTestSupport.IrisModel);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains($"Registered {name} version 2", second.Stdout);

        // Inference through production (version 1), as a table and as JSON; the request read from a file and from stdin.
        var requestFile = Path.Combine(mlp.WorkDir, "request.json");
        await File.WriteAllTextAsync(requestFile, IrisRequest);
        var table = await mlp.RunAsync("infer", name, "--input", requestFile);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("Score.output", table.Stdout);
        Assert.Contains("PredictedLabel.output", table.Stdout);
        Assert.Contains($"{name} version 1", table.Stdout);
        var json = await mlp.RunAsync(["infer", name, "--version", "2", "--input", "-", "--json"], stdin: IrisRequest);
        Assert.True(json.ExitCode == 0, json.ToString());
        using (var response = JsonDocument.Parse(json.Stdout))
        {
            Assert.Equal("2", response.RootElement.GetProperty("model_version").GetString());
            var labels = response.RootElement.GetProperty("outputs").EnumerateArray()
                .Single(o => o.GetProperty("name").GetString() == "PredictedLabel.output").GetProperty("data");
            // Setosa (1) and virginica (3): the model really ran on the rows.
            Assert.Equal([1, 3], labels.EnumerateArray().Select(l => l.GetInt32()));
        }

        // A batch job from a CSV, waited for (iris's exporter adds a constant [1, 1] output a batch cannot split, so the real outputs are named).
        var rows = Path.Combine(mlp.WorkDir, "rows.csv");
        await File.WriteAllLinesAsync(rows, ["sl,sw,pl,pw", "5.1,3.5,1.4,0.2", "6.7,3.0,5.2,2.3", "5.9,2.8,4.3,1.3"]);
        var batch = await mlp.RunAsync("batch", "submit", name, rows, "--output", "Score.output", "--output", "PredictedLabel.output", "--wait", "--json");
        Assert.True(batch.ExitCode == 0, batch.ToString());
        string jobId;
        using (var job = JsonDocument.Parse(batch.Stdout))
        {
            Assert.Equal("succeeded", job.RootElement.GetProperty("status").GetString());
            Assert.Equal(3, job.RootElement.GetProperty("rowsDone").GetInt32());
            Assert.Equal(1, job.RootElement.GetProperty("version").GetInt32());
            jobId = job.RootElement.GetProperty("id").GetString()!;
        }
        var results = await mlp.RunAsync("batch", "results", jobId);
        Assert.True(results.ExitCode == 0, results.ToString());
        var lines = results.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("""{"row":0,"outputs":{""", lines[0]);
        Assert.Contains("\"PredictedLabel.output\":[3]", lines[1]);
        var status = await mlp.RunAsync("batch", "status", jobId);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("succeeded", status.Stdout);

        // Promote version 2, then roll back to 1.
        var promote = await mlp.RunAsync("alias", "set", name, "production", "2", "--reason", "v2 passed review");
        Assert.True(promote.ExitCode == 0, promote.ToString());
        Assert.Contains($"{name} production → version 2", promote.Stdout);
        var rollback = await mlp.RunAsync("rollback", name, "--reason", "v2 misbehaves", "--json");
        Assert.True(rollback.ExitCode == 0, rollback.ToString());
        using (var alias = JsonDocument.Parse(rollback.Stdout))
        {
            Assert.Equal("production", alias.RootElement.GetProperty("name").GetString());
            Assert.Equal(1, alias.RootElement.GetProperty("version").GetInt32());
        }
        var show = await mlp.RunAsync("models", "show", name);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("production→v1", show.Stdout);
        var list = await mlp.RunAsync("models", "list", "--prefix", name);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(name, list.Stdout);

        // Nothing left to roll back to: the registry's 409 is a refusal, with its reason.
        var again = await mlp.RunAsync("rollback", name, "--reason", "once more");
        Assert.Equal(2, again.ExitCode);
        Assert.StartsWith("error: 409 Conflict: ", again.Stderr);
        Assert.Single(again.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task RegisteringAFileThatIsNotOnnxExitsTwoWithTheRegistrysReason()
    {
        using var mlp = MlpTool.For(platform);
        var bad = Path.Combine(mlp.WorkDir, "not-a-model.onnx");
        await File.WriteAllTextAsync(bad, "this is not a protobuf, let alone an ONNX graph");

        var result = await mlp.RunAsync("models", "register", RegistryTestSupport.UniqueName("cli-bad"), bad);

        Assert.Equal(2, result.ExitCode);
        // Not protobuf: refused by the registry's own scan, before ONNX Runtime ever sees it.
        Assert.StartsWith("error: 422 Unprocessable Entity: The file is not a well-formed ONNX model", result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task AnUnknownModelExitsThree()
    {
        using var mlp = MlpTool.For(platform);
        var name = RegistryTestSupport.UniqueName("cli-missing");

        var show = await mlp.RunAsync("models", "show", name);
        Assert.Equal(3, show.ExitCode);
        Assert.StartsWith("error: 404 Not Found: ", show.Stderr);
        Assert.Contains(name, show.Stderr);

        var infer = await mlp.RunAsync(["infer", name, "--input", "-"], stdin: IrisRequest);
        Assert.Equal(3, infer.ExitCode);
        Assert.StartsWith("error: 404 Not Found: ", infer.Stderr);
    }

    [Fact]
    public async Task WithoutAKeyTheToolExitsTwoAndSaysHowToGiveOne()
    {
        using var mlp = MlpTool.For(platform, apiKey: null);

        var result = await mlp.RunAsync("models", "list");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("error: 401 Unauthorized: no API key given; pass --api-key, set $MLP_API_KEY or run 'mlp login'.", result.Stderr.Trim());

        var wrong = await mlp.RunAsync("models", "list", "--api-key", "not-a-key-of-this-gateway");
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("the API key was not accepted", wrong.Stderr);
    }

    [Fact]
    public async Task AReaderKeyCannotRegisterAndTheToolSaysForbidden()
    {
        using var mlp = MlpTool.For(platform, PlatformFixture.ReaderApiKey);

        var result = await mlp.RunAsync("models", "register", RegistryTestSupport.UniqueName("cli-reader"), RegistryTestSupport.IrisModel);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: 403 Forbidden", result.Stderr);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task LoginChecksTheKeyAndSavesItForLaterCommandsReadableByTheUserOnly()
    {
        using var withKey = MlpTool.For(platform);
        var login = await withKey.RunAsync("login", "--url", withKey.Url, "--api-key", PlatformFixture.ReaderApiKey);
        Assert.True(login.ExitCode == 0, login.ToString());
        var file = Path.Combine(withKey.ConfigHome, "mlp", "config.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Contains(PlatformFixture.ReaderApiKey, await File.ReadAllTextAsync(file));

        // A later command with neither options nor environment uses the saved URL and key.
        var list = await withKey.RunAsync(["models", "list", "--json"], stdin: null, environment: new() { ["MLP_URL"] = null, ["MLP_API_KEY"] = null });
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("\"items\"", list.Stdout);

        var refused = await withKey.RunAsync("login", "--url", withKey.Url, "--api-key", "wrong-key-wrong-key-wrong");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains(PlatformFixture.ReaderApiKey, await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task UsageErrorsExitOneWithoutCallingTheGateway()
    {
        // An unreachable URL proves no request is made: a request would exit 4.
        using var mlp = new MlpTool("http://127.0.0.1:9", PlatformFixture.AdminApiKey);

        var noReason = await mlp.RunAsync("rollback", "iris");
        Assert.Equal(1, noReason.ExitCode);
        Assert.Equal("error: --reason is required: every rollback is recorded with its reason.", noReason.Stderr.Trim());

        var unknown = await mlp.RunAsync("models", "frobnicate");
        Assert.Equal(1, unknown.ExitCode);

        var missingFile = await mlp.RunAsync("models", "register", "iris", "no-such-file.onnx");
        Assert.Equal(1, missingFile.ExitCode);
        Assert.Contains("no-such-file.onnx", missingFile.Stderr);

        var unreachable = await mlp.RunAsync("models", "list");
        Assert.Equal(4, unreachable.ExitCode);
        Assert.StartsWith("error: Cannot reach the gateway at http://127.0.0.1:9/", unreachable.Stderr);
    }

    [Fact]
    public async Task OnATerminalUploadsAndBatchJobsShowProgressBars()
    {
        using var mlp = MlpTool.For(platform);
        var name = RegistryTestSupport.UniqueName("cli-tty");
        var registered = await mlp.RunAsync("models", "register", name, RegistryTestSupport.IrisModel, "--alias", "production");
        Assert.True(registered.ExitCode == 0, registered.ToString());
        var rows = Path.Combine(mlp.WorkDir, "rows.jsonl");
        await File.WriteAllLinesAsync(rows, Enumerable.Range(0, 500).Select(i => $$"""{"input": [5.1, 3.5, 1.4, {{i % 3}}]}"""));

        // util-linux `script` gives the tool a pseudo-terminal, as a person's shell would.
        var command = string.Join(' ', new[] { "dotnet", MlpTool.CliDll, "batch", "submit", name, rows, "--output", "PredictedLabel.output", "--wait" }
            .Select(a => "'" + a.Replace("'", "'\\''") + "'"));
        var start = new System.Diagnostics.ProcessStartInfo("script")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = mlp.WorkDir,
        };
        foreach (var arg in new[] { "-qec", command, "/dev/null" })
        {
            start.ArgumentList.Add(arg);
        }
        mlp.ApplyEnvironment(start.Environment);
        start.Environment["TERM"] = "xterm";
        var result = await MlpTool.RunProcessAsync(start, stdin: null);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Uploading rows.jsonl", result.Stdout);
        Assert.Contains("100%", result.Stdout);
        Assert.Contains("succeeded: 500/500 rows", result.Stdout);
        Assert.Contains("rows/s", result.Stdout);
    }

    [Fact]
    public async Task HelpShowsExamples()
    {
        using var mlp = new MlpTool("http://127.0.0.1:9", null);

        var help = await mlp.RunAsync("batch", "submit", "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("EXAMPLES:", help.Stdout);
        Assert.Contains("mlp batch submit iris rows.csv --wait", help.Stdout);
    }
}
