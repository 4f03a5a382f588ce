using System.Text.Json;

namespace MlPlatform.IntegrationTests.Cli;

/// <summary><c>mlp rollout</c> and <c>mlp alerts</c> against the registry's rollout controller and alert list.</summary>
[Collection(PlatformCollection.Name)]
public sealed class MlpRolloutTests(PlatformFixture platform)
{
    [Fact]
    public async Task ARolloutIsStartedFollowedRefusedTwiceAndAbortedFromTheTerminal()
    {
        using var mlp = MlpTool.For(platform);
        var name = RegistryTestSupport.UniqueName("cli-rollout");
        Assert.Equal(0, (await mlp.RunAsync("models", "register", name, RegistryTestSupport.IrisModel, "--alias", "production")).ExitCode);
        Assert.Equal(0, (await mlp.RunAsync("models", "register", name, RegistryTestSupport.IrisModel)).ExitCode);

        // Long steps: the controller must not judge this rollout while the test looks at it.
        var started = await mlp.RunAsync("rollout", "start", name, "2", "--steps", "20,100", "--step-interval", "1h", "--deadline", "2h",
            "--max-error-rate", "0.05", "--max-p99-ms", "500", "--min-requests", "10", "--reason", "try v2 on a fifth", "--json");
        Assert.True(started.ExitCode == 0, started.ToString());
        string id;
        using (var rollout = JsonDocument.Parse(started.Stdout))
        {
            id = rollout.RootElement.GetProperty("id").GetString()!;
            Assert.Equal("running", rollout.RootElement.GetProperty("status").GetString());
            Assert.Equal([20, 100], rollout.RootElement.GetProperty("steps").EnumerateArray().Select(s => s.GetInt32()));
            Assert.Equal("try v2 on a fifth", rollout.RootElement.GetProperty("startReason").GetString());
        }

        var status = await mlp.RunAsync("rollout", "status", name, id);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("running", status.Stdout);
        Assert.Contains("currentWeight", status.Stdout);
        var list = await mlp.RunAsync("rollout", "list", name);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(id, list.Stdout);

        var second = await mlp.RunAsync("rollout", "start", name, "2");
        Assert.Equal(2, second.ExitCode);
        Assert.StartsWith("error: 409 Conflict: ", second.Stderr);

        var aborted = await mlp.RunAsync("rollout", "abort", name, id, "--reason", "seen enough");
        Assert.True(aborted.ExitCode == 0, aborted.ToString());
        Assert.Contains($"Aborted rollout {id}", aborted.Stdout);
        var after = await mlp.RunAsync("rollout", "status", name, id, "--json");
        using (var rollout = JsonDocument.Parse(after.Stdout))
        {
            Assert.Equal("aborted", rollout.RootElement.GetProperty("status").GetString());
            Assert.EndsWith(": seen enough", rollout.RootElement.GetProperty("reason").GetString());
        }

        var model = await mlp.RunAsync("models", "show", name);
        Assert.Contains("production→v1", model.Stdout);
        Assert.DoesNotContain("canary", model.Stdout);
    }

    [Fact]
    public async Task AlertsAreListedForAReaderKey()
    {
        using var mlp = MlpTool.For(platform, PlatformFixture.ReaderApiKey);

        var alerts = await mlp.RunAsync("alerts", "--status", "firing", "--limit", "10", "--json");
        Assert.True(alerts.ExitCode == 0, alerts.ToString());
        using var json = JsonDocument.Parse(alerts.Stdout);

        var table = await mlp.RunAsync("alerts");
        Assert.True(table.ExitCode == 0, table.ToString());

        var bad = await mlp.RunAsync("alerts", "--status", "sleeping");
        Assert.Equal(2, bad.ExitCode);
        Assert.StartsWith("error: 400 Bad Request: ", bad.Stderr);
    }

    [Fact]
    public async Task AnIncompatibleVersionIsRefusedWithItsDifferencesUntilForced()
    {
        using var mlp = MlpTool.For(platform);
        var name = RegistryTestSupport.UniqueName("cli-contract");
        var linear = Online.OnlineScorerClient.ModelPath("linear-v1.onnx");
        Assert.Equal(0, (await mlp.RunAsync("models", "register", name, linear, "--alias", "production")).ExitCode);
        // A CNN as version 2: its input is 'image', so every request production accepts today would fail on it.
        Assert.Equal(0, (await mlp.RunAsync("models", "register", name, Online.OnlineScorerClient.ModelPath("conv.onnx"))).ExitCode);

        foreach (var refused in new[]
        {
            await mlp.RunAsync("rollout", "start", name, "2"),
            await mlp.RunAsync("alias", "set", name, "production", "2", "--reason", "new input format"),
        })
        {
            Assert.Equal(2, refused.ExitCode);
            Assert.StartsWith("error: 409 Conflict: ", refused.Stderr);
            // The registry's detail: what would break, and how to move it anyway.
            Assert.Contains("would break requests that production (version 1) accepts: input 'input' removed", refused.Stderr);
            Assert.Contains("Send \"force\": true", refused.Stderr);
        }

        var forced = await mlp.RunAsync("alias", "set", name, "production", "2", "--reason", "new input format", "--force");
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.Contains($"{name} production → version 2", forced.Stdout);
    }
}
