using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace MlPlatform.IntegrationTests.Cli;

/// <summary>
/// Runs the README's "First run" section, every ```bash block in order, as one bash script against the shared platform:
/// the fixture's gateway stands in for http://localhost:8000, its admin key is the one in <c>.data/secrets/admin-api-key</c>
/// of the script's working folder, and <c>.tools/mlp</c> is a wrapper around the Cli.dll built with the tests.
/// </summary>
[Collection(PlatformCollection.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class ReadmeWalkthroughTests(PlatformFixture platform)
{
    /// <summary>Lines the test does instead of running: the fixture has started the platform, and the tool is already built.</summary>
    private static readonly string[] ReplacedByTheTest =
    [
        "./platform start",
        "dotnet pack Cli -c Release -o .tools/nupkg",
        "dotnet tool install MlPlatform.Cli --tool-path .tools --add-source .tools/nupkg",
    ];

    [Fact]
    public async Task EveryCommandOfTheFirstRunWalkthroughSucceeds()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "README.md"));
        var section = Section(readme, "## First run");
        var lines = BashBlocks().Matches(section).SelectMany(m => m.Groups[1].Value.Split('\n')).ToList();
        foreach (var replaced in ReplacedByTheTest)
        {
            Assert.Contains(lines, l => l.Trim() == replaced);
        }

        using var mlp = MlpTool.For(platform);
        var name = RegistryTestSupport.UniqueName("readme");
        var work = mlp.WorkDir;
        Directory.CreateDirectory(Path.Combine(work, ".data", "secrets"));
        await File.WriteAllTextAsync(Path.Combine(work, ".data", "secrets", "admin-api-key"), PlatformFixture.AdminApiKey);
        Directory.CreateDirectory(Path.Combine(work, "models"));
        File.Copy(RegistryTestSupport.IrisModel, Path.Combine(work, "models", "iris.onnx"));
        Directory.CreateDirectory(Path.Combine(work, ".tools"));
        var wrapper = Path.Combine(work, ".tools", "mlp");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec dotnet \"{MlpTool.CliDll}\" \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var script = new StringBuilder("set -euo pipefail\nset -x\n");
        foreach (var line in lines.Where(l => !ReplacedByTheTest.Contains(l.Trim())))
        {
            script.AppendLine(line.Replace("http://localhost:8000", mlp.Url).Replace("my-iris", name));
        }
        var scriptPath = Path.Combine(work, "walkthrough.sh");
        await File.WriteAllTextAsync(scriptPath, script.ToString());

        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = work,
        };
        start.ArgumentList.Add(scriptPath);
        mlp.ApplyEnvironment(start.Environment);
        // The walkthrough's own `mlp login` provides the URL and key.
        start.Environment.Remove("MLP_URL");
        start.Environment.Remove("MLP_API_KEY");
        var result = await MlpTool.RunProcessAsync(start, stdin: null);

        Assert.True(result.ExitCode == 0, $"{result}\nscript:\n{script}");
        var output = result.Stdout;
        Assert.Contains($"Registered {name} version 2", output);
        Assert.Contains($"{name} version 1", output);                  // mlp infer through production
        Assert.Contains("\"model_version\": \"2\"", output);           // mlp infer --version 2 --json
        Assert.Contains("\"model_version\":\"1\"", output);            // curl infer
        Assert.Contains("succeeded", output);                          // batch submit --wait
        Assert.Contains("{\"row\":2,\"outputs\":{\"PredictedLabel.output\":[", output);
        Assert.Contains($"{name} production → version 2", output);
        Assert.Contains($"Rolled back {name}: production → version 1", output);
        Assert.Contains("\"kind\":\"rollback\"", output);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(mlp.ConfigHome, "mlp", "config.json")));
    }

    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no '{heading}' section.");
        var end = markdown.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? markdown[start..] : markdown[start..end];
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
