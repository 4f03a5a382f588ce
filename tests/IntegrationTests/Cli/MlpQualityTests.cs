using System.Diagnostics;
using System.Text.Json;
using MlPlatform.IntegrationTests.Online;
using MlPlatform.IntegrationTests.Quality;
using Xunit.Abstractions;
using static MlPlatform.IntegrationTests.Quality.QualityClient;

namespace MlPlatform.IntegrationTests.Cli;

/// <summary><c>mlp payloads</c>, <c>mlp feedback</c>, <c>mlp quality</c>, <c>mlp shadow set</c> and the rollout gate options through the real platform.</summary>
[Collection(PlatformCollection.Name)]
public sealed class MlpQualityTests(PlatformFixture platform, ITestOutputHelper output)
{
    [Fact]
    public async Task PayloadsFeedbackQualityShadowAndGatedRolloutsWorkFromTheTerminal()
    {
        var clock = Stopwatch.StartNew();
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        using var adminMlp = MlpTool.For(platform);
        using var operatorMlp = MlpTool.For(platform, PlatformFixture.OperatorApiKey);
        using var readerMlp = MlpTool.For(platform, PlatformFixture.ReaderApiKey);
        var name = await QualityTests.ServeIrisWithSwappedVersionAsync(admin);

        await SendAsync(reader, $"/v2/models/{name}/infer", 30, 6, i => $"cli-{i}", QualityTests.IrisFlower);
        await ReadPayloadsAsync(operatorClient, name, 1, 30);

        // mlp payloads: the version's log as JSON lines (operator); a reader is refused.
        var payloads = await operatorMlp.RunAsync("payloads", name, "--version", "1", "--since", "1h", "--limit", "100");
        Assert.True(payloads.ExitCode == 0, payloads.ToString());
        var ids = payloads.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("id").GetString()).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"cli-{i}").Order(), ids);
        var refused = await readerMlp.RunAsync("payloads", name, "--version", "1");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("403", refused.Stderr);

        // mlp feedback: a JSON lines file, then one label again from stdin as a JSON array (it replaces).
        var labels = Path.Combine(operatorMlp.WorkDir, "labels.jsonl");
        await File.WriteAllLinesAsync(labels, Enumerable.Range(0, 30).Select(i => Invariant($$"""{"id":"cli-{{i}}","label":"{{QualityTests.Species[i % 3]}}"}""")));
        var stored = await operatorMlp.RunAsync("feedback", name, labels);
        Assert.True(stored.ExitCode == 0, stored.ToString());
        Assert.Contains($"Stored 30 labels for {name} (0 replaced, 0 for ids not logged yet)", stored.Stdout);
        var again = await operatorMlp.RunAsync(["feedback", name, "-", "--json"], stdin: """[{"id":"cli-0","label":"setosa"}]""");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(1, JsonDocument.Parse(again.Stdout).RootElement.GetProperty("replaced").GetInt32());
        var badLabels = await operatorMlp.RunAsync(["feedback", name, "-"], stdin: "{\"id\":\"cli-1\",\"label\":true}");
        Assert.Equal(2, badLabels.ExitCode);
        Assert.Contains("line 1", badLabels.Stderr);

        // mlp quality: production's figures by default (a reader may read them).
        var quality = await readerMlp.RunAsync("quality", name, "--window", "1h");
        Assert.True(quality.ExitCode == 0, quality.ToString());
        Assert.Contains($"{name}: classification on Score.output over 1h", quality.Stdout);
        var figures = await readerMlp.RunAsync("quality", name, "--json");
        using (var report = JsonDocument.Parse(figures.Stdout))
        {
            Assert.Equal(1, report.RootElement.GetProperty("version").GetInt32());
            Assert.Equal(30, report.RootElement.GetProperty("figures").GetProperty("labelled").GetInt32());
            Assert.Equal(1.0, report.RootElement.GetProperty("figures").GetProperty("accuracy").GetDouble());
        }

        // mlp shadow set: version 2 receives copies of production's requests.
        var shadow = await adminMlp.RunAsync("shadow", "set", name, "2", "--weight", "100", "--reason", "cli test");
        Assert.True(shadow.ExitCode == 0, shadow.ToString());
        Assert.Contains($"{name} version 2 now receives a copy of 100% of production's requests", shadow.Stdout);
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            await SendAsync(reader, $"/v2/models/{name}/infer", 3, 1, _ => $"copy-{Guid.NewGuid():N}", QualityTests.IrisFlower);
            var (_, report) = await OnlineScorerClient.GetJsonAsync(reader, $"/v1/models/{name}/versions/2/shadow?window=1h");
            return report.RootElement.GetProperty("compared").GetInt32() > 0;
        }, "version 2 answers copies of production's requests");

        // mlp rollout start with quality gates: they are on the rollout, and a bad one is refused naming it.
        var badGate = await adminMlp.RunAsync("rollout", "start", name, "2", "--accuracy-drop-max", "2");
        Assert.Equal(2, badGate.ExitCode);
        Assert.Contains("gates.accuracyDropMax", badGate.Stderr);
        var started = await adminMlp.RunAsync("rollout", "start", name, "2", "--steps", "10,100", "--step-interval", "1h", "--deadline", "2h",
            "--accuracy-drop-max", "0.02", "--drift-psi-max", "0.25", "--shadow-agreement-min", "0.95", "--json");
        Assert.True(started.ExitCode == 0, started.ToString());
        using (var rollout = JsonDocument.Parse(started.Stdout))
        {
            var gates = rollout.RootElement.GetProperty("gates");
            Assert.Equal(0.02, gates.GetProperty("accuracyDropMax").GetDouble());
            Assert.Equal(0.25, gates.GetProperty("driftPsiMax").GetDouble());
            Assert.Equal(0.95, gates.GetProperty("shadowAgreementMin").GetDouble());
            Assert.Equal(0, (await adminMlp.RunAsync("rollout", "abort", name, rollout.RootElement.GetProperty("id").GetString()!)).ExitCode);
        }
        output.WriteLine($"mlp quality commands: {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
