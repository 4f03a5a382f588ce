using System.Text;

namespace MlPlatform.IntegrationTests.Cli;

/// <summary>
/// Runs the README's "First run" section, every ```bash block in order, as one bash script against the shared platform:
/// the fixture's gateway stands in for http://localhost:8000, its admin key is the one in <c>.data/secrets/admin-api-key</c>
/// of the script's working folder, and <c>.tools/mlp</c> is a wrapper around the Cli.dll built with the tests.
/// </summary>
[Collection(PlatformCollection.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ReadmeWalkthroughTests(PlatformFixture platform)
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
        var lines = await DocScript.BashLinesAsync("README.md", "## First run");
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
        await DocScript.InstallMlpAsync(Path.Combine(work, ".tools"));

        var script = new StringBuilder("set -euo pipefail\nset -x\n");
        foreach (var line in lines.Where(l => !ReplacedByTheTest.Contains(l.Trim())))
        {
            script.AppendLine(line.Replace("http://localhost:8000", mlp.Url).Replace("my-iris", name));
        }
        // The walkthrough's own `mlp login` provides the URL and key.
        var result = await DocScript.RunAsync(mlp, script.ToString(), environment =>
        {
            environment.Remove("MLP_URL");
            environment.Remove("MLP_API_KEY");
        });

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
}
