using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using MlPlatform.IntegrationTests.Cli;
using MlPlatform.IntegrationTests.Online;
using Xunit.Abstractions;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>
/// Runs docs/quality.md's "Worked example: iris-quality", every ```bash block in order, as one bash script against the shared platform (like
/// the README's first-run walkthrough): the fixture's gateway stands in for http://localhost:8000, <c>$ADMIN</c>, <c>$OP</c> and
/// <c>$KEY</c> are its keys, <c>mlp</c> is a wrapper around the Cli.dll built with the tests, and the model gets a name of its own.
/// </summary>
[Collection(PlatformCollection.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class QualityWalkthroughTests(PlatformFixture platform, ITestOutputHelper output)
{
    [Fact]
    public async Task EveryCommandOfTheQualityWorkedExampleSucceeds()
    {
        var clock = Stopwatch.StartNew();
        var doc = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "docs", "quality.md"));
        var start = doc.IndexOf("## Worked example: iris-quality\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/quality.md has no 'Worked example: iris-quality' section.");
        var end = doc.IndexOf("\n## ", start + 10, StringComparison.Ordinal);
        var section = end < 0 ? doc[start..] : doc[start..end];
        var lines = BashBlocks().Matches(section).SelectMany(m => m.Groups[1].Value.Split('\n')).ToList();
        Assert.True(lines.Count > 20, section);

        using var mlp = MlpTool.For(platform);
        var name = OnlineScorerClient.UniqueName("walk");
        var work = mlp.WorkDir;
        Directory.CreateDirectory(Path.Combine(work, "models", "online"));
        File.Copy(RegistryTestSupport.IrisModel, Path.Combine(work, "models", "iris.onnx"));
        File.Copy(OnlineScorerClient.ModelPath("iris-swapped.onnx"), Path.Combine(work, "models", "online", "iris-swapped.onnx"));
        Directory.CreateDirectory(Path.Combine(work, "bin"));
        var wrapper = Path.Combine(work, "bin", "mlp");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec dotnet \"{MlpTool.CliDll}\" \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // pipefail is left off: `... | grep -q` may close the pipe before the writer is done, which is the point of -q.
        var script = new StringBuilder("set -eu\nset -x\n");
        script.AppendLine($"export PATH=\"{Path.Combine(work, "bin")}:$PATH\" ADMIN={PlatformFixture.AdminApiKey} OP={PlatformFixture.OperatorApiKey} KEY={PlatformFixture.ReaderApiKey}");
        foreach (var line in lines)
        {
            script.AppendLine(line.Replace("http://localhost:8000", mlp.Url).Replace("/models/iris-quality/", $"/models/{name}/")
                .Replace(" iris-quality ", $" {name} ").Replace("\"model\":\"iris-quality\"", $"\"model\":\"{name}\""));
        }
        var scriptPath = Path.Combine(work, "walkthrough.sh");
        await File.WriteAllTextAsync(scriptPath, script.ToString());

        var run = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = work,
        };
        run.ArgumentList.Add(scriptPath);
        mlp.ApplyEnvironment(run.Environment);
        var result = await MlpTool.RunProcessAsync(run, stdin: null);

        Assert.True(result.ExitCode == 0, $"{result}\nscript:\n{script}");
        var stdout = result.Stdout;
        Assert.Contains("\"id\":\"b-1\"", stdout);                                   // 3. the payload log
        Assert.Contains("{\"accepted\":2,\"replaced\":0,\"unknown\":0}", stdout);     // 4. feedback
        Assert.Contains("\"baselineVersion\":1", stdout);                             // 5. quality against production
        Assert.Contains($"{name}: classification on Score.output over 1h", stdout);  //    mlp quality
        Assert.Contains("\"productionVersion\":1", stdout);                           // 6. shadow report, on copies actually compared
        Assert.Matches("\"compared\":[1-9][0-9]*,\"agreement\":0(\\.[0-9]+)?,", stdout); //    (below 1: v2 agrees on virginica only)
        Assert.Contains("\"source\":\"batch-job\"", stdout);                          // 7. the stored reference
        Assert.Contains("\"referenceSource\":\"batch-job:", stdout);                  //    drift against it
        Assert.Contains("quality gate accuracyDropMax failed: accuracy drop 1", stdout); // 8. the gated rollout and its history
        Assert.Contains("accuracyDropMax", stdout);
        var (_, production) = await OnlineScorerClient.GetJsonAsync(platform.CreateGatewayClient(), $"/v1/models/{name}/aliases/production");
        Assert.Equal(1, production.RootElement.GetProperty("version").GetInt32());
        output.WriteLine($"docs/quality.md walkthrough: {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MlPlatform.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("The repository root (MlPlatform.sln) was not found above the test folder.");
    }

    [GeneratedRegex(@"```bash\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlocks();
}
