using System.Diagnostics;
using System.Text;
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
public sealed class QualityWalkthroughTests(PlatformFixture platform, ITestOutputHelper output)
{
    [Fact]
    public async Task EveryCommandOfTheQualityWorkedExampleSucceeds()
    {
        var clock = Stopwatch.StartNew();
        var lines = await DocScript.BashLinesAsync(Path.Combine("docs", "quality.md"), "## Worked example: iris-quality");
        Assert.True(lines.Count > 20, string.Join('\n', lines));

        using var mlp = MlpTool.For(platform);
        var name = OnlineScorerClient.UniqueName("walk");
        var work = mlp.WorkDir;
        Directory.CreateDirectory(Path.Combine(work, "models", "online"));
        File.Copy(RegistryTestSupport.IrisModel, Path.Combine(work, "models", "iris.onnx"));
        File.Copy(OnlineScorerClient.ModelPath("iris-swapped.onnx"), Path.Combine(work, "models", "online", "iris-swapped.onnx"));
        await DocScript.InstallMlpAsync(Path.Combine(work, "bin"));

        // pipefail is left off: `... | grep -q` may close the pipe before the writer is done, which is the point of -q.
        var script = new StringBuilder("set -eu\nset -x\n");
        script.AppendLine($"export PATH=\"{Path.Combine(work, "bin")}:$PATH\" ADMIN={PlatformFixture.AdminApiKey} OP={PlatformFixture.OperatorApiKey} KEY={PlatformFixture.ReaderApiKey}");
        foreach (var line in lines)
        {
            script.AppendLine(line.Replace("http://localhost:8000", mlp.Url).Replace("/models/iris-quality/", $"/models/{name}/")
                .Replace(" iris-quality ", $" {name} ").Replace("\"model\":\"iris-quality\"", $"\"model\":\"{name}\""));
        }
        var result = await DocScript.RunAsync(mlp, script.ToString());

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
}
