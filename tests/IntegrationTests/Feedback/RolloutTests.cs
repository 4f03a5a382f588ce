using System.Text.Json;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>Progressive rollouts driven by real traffic through the gateway: promotion, automatic rollback, conflicts and aborts.</summary>
[Collection(FeedbackCollection.Name)]
public sealed class RolloutTests(FeedbackFixture platform)
{
    private static readonly TimeSpan RolloutTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task ARolloutOfAGoodVersionPromotesItThroughEveryStep()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("good");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetAliasAsync(client, name, "production", v1);

        await using var traffic = Traffic.Start(client, name);
        var id = await StartAsync(client, name, new { version = v2, steps = new[] { 30, 60, 100 }, stepInterval = "2s", minRequests = 5, maxErrorRate = 0.05, maxP99Ms = 5000, deadline = "2m" });
        var rollout = await WaitForOutcomeAsync(client, name, id);

        Assert.Equal("succeeded", rollout.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, rollout.GetProperty("currentWeight").ValueKind);
        var decisions = rollout.GetProperty("analyses").EnumerateArray().Select(a => a.GetProperty("decision").GetString()).ToList();
        Assert.Equal(["advance", "advance", "promote"], decisions.Where(d => d != "wait"));
        var weights = rollout.GetProperty("analyses").EnumerateArray().Where(a => a.GetProperty("decision").GetString() != "wait")
            .Select(a => a.GetProperty("weight").GetInt32());
        Assert.Equal([30, 60, 100], weights);
        Assert.All(rollout.GetProperty("analyses").EnumerateArray(), a => Assert.Equal(0, a.GetProperty("errors").GetInt64()));
        var (_, production) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production");
        Assert.Equal(v2, production.RootElement.GetProperty("version").GetInt32());
        var (canaryStatus, _) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/canary");
        Assert.Equal(HttpStatusCode.NotFound, canaryStatus);
        Assert.True(traffic.Count("v1") > 0 && traffic.Count("v2") > 0, $"answers: {string.Join(", ", traffic.Answers)}");
        Assert.Equal(0, traffic.Answers.Where(a => !a.Key.StartsWith('v')).Sum(a => a.Value));
    }

    [Fact]
    public async Task ARolloutOfAVersionThatFailsOnValidRequestsRollsBackAlertsAndLeavesProductionAlone()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("bad");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        // The linear signature, but every run fails in ONNX Runtime: the clients' valid requests get server errors (500).
        var (v2, _) = await RegisterAsync(client, name, "linear-faulty.onnx");
        await SetAliasAsync(client, name, "production", v1);

        await using var traffic = Traffic.Start(client, name);
        var id = await StartAsync(client, name, new { version = v2, steps = new[] { 20, 50, 100 }, stepInterval = "2s", minRequests = 5, maxErrorRate = 0.05, maxP99Ms = 5000, deadline = "2m" });
        var rollout = await WaitForOutcomeAsync(client, name, id);

        Assert.Equal("failed", rollout.GetProperty("status").GetString());
        var reason = rollout.GetProperty("reason").GetString()!;
        Assert.StartsWith("rolled back at step 1 (20%): error rate 1 (", reason);
        var last = rollout.GetProperty("analyses").EnumerateArray().Last();
        Assert.EndsWith($"exceeds 0.05; production 0 on {last.GetProperty("productionRequests").GetInt64()} requests", reason);
        Assert.Equal("rollback", last.GetProperty("decision").GetString());
        Assert.Equal(1.0, last.GetProperty("errorRate").GetDouble());
        var (_, production) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production");
        Assert.Equal(v1, production.RootElement.GetProperty("version").GetInt32());
        var (canaryStatus, _) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/canary");
        Assert.Equal(HttpStatusCode.NotFound, canaryStatus);
        Assert.True(traffic.Count("500") > 0, $"answers: {string.Join(", ", traffic.Answers)}");
        Assert.Equal(0, traffic.Count("400"));

        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        // The controller records the failed rollout first and raises its alert just after: wait for it.
        JsonElement alert = default;
        await EventuallyAsync(async () =>
        {
            var (alertsStatus, alerts) = await GetJsonAsync(reader, "/v1/alerts?status=firing");
            Assert.Equal(HttpStatusCode.OK, alertsStatus);
            var matching = alerts.RootElement.EnumerateArray().Where(a => a.GetProperty("model").GetString() == name).ToList();
            Assert.True(matching.Count <= 1, $"{matching.Count} alerts for {name}");
            if (matching.Count == 1)
            {
                alert = matching[0].Clone();
            }
            return matching.Count == 1;
        }, "the rollout-failed alert fires");
        Assert.Equal("rollout-failed", alert.GetProperty("alert").GetString());
        Assert.Equal("critical", alert.GetProperty("severity").GetString());
        Assert.Equal(v2, alert.GetProperty("version").GetInt32());
        Assert.Equal(0.05, alert.GetProperty("threshold").GetDouble());

        await EventuallyAsync(() => Task.FromResult(platform.Webhooks.Any(w => IsAbout(w, name, "rollout-failed"))), "the webhook receives the alert");
        var hook = platform.Webhooks.First(w => IsAbout(w, name, "rollout-failed")).RootElement;
        Assert.Equal("firing", hook.GetProperty("status").GetString());
        Assert.Equal(1.0, hook.GetProperty("value").GetDouble());
        Assert.Equal($"/v1/models/{name}/rollouts/{id}", hook.GetProperty("links").GetProperty("rollout").GetString());
        Assert.True(hook.TryGetProperty("at", out _));
    }

    [Fact]
    public async Task ARolloutOfATooSlowVersionRollsBackOnItsP99AlertsAndLeavesProductionAlone()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("slow");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        // The linear signature with a chain of 512x512 MatMuls behind it (tools/build_slow_model.py): about 100 ms per Run, every answer right.
        var (v2, _) = await RegisterAsync(client, name, "linear-slow.onnx");
        await SetAliasAsync(client, name, "production", v1);

        await using var traffic = Traffic.Start(client, name);
        var id = await StartAsync(client, name, new { version = v2, steps = new[] { 50, 100 }, stepInterval = "3s", minRequests = 5, maxErrorRate = 0.05, maxP99Ms = 25, deadline = "2m" });
        var rollout = await WaitForOutcomeAsync(client, name, id);

        Assert.Equal("failed", rollout.GetProperty("status").GetString());
        var last = rollout.GetProperty("analyses").EnumerateArray().Last();
        Assert.Equal("rollback", last.GetProperty("decision").GetString());
        Assert.Equal(0, last.GetProperty("errors").GetInt64());
        var p99 = last.GetProperty("p99Ms").GetDouble();
        Assert.True(p99 > 25, $"measured p99 {p99} ms");
        // Production measured in the same windows is the baseline: the breach needs the threshold and the factor over its p99. On a
        // loaded machine production can be slow enough at 50% to excuse the canary; at 100% production gets (almost) no routed
        // requests, so the absolute threshold decides there. Either way the reason names the step the analysis was taken at.
        var step = last.GetProperty("step").GetInt32();
        var reason = rollout.GetProperty("reason").GetString()!;
        Assert.StartsWith(FormattableString.Invariant(
                $"rolled back at step {step} ({last.GetProperty("weight").GetInt32()}%): p99 {p99:0.###} ms over {last.GetProperty("requests").GetInt64()} requests exceeds 25 ms"),
            reason);
        if (last.GetProperty("productionRequests").GetInt64() > 0)
        {
            Assert.Contains("exceeds 25 ms; production ", reason);
        }
        var (_, production) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production");
        Assert.Equal(v1, production.RootElement.GetProperty("version").GetInt32());
        var (canaryStatus, _) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/canary");
        Assert.Equal(HttpStatusCode.NotFound, canaryStatus);
        Assert.True(traffic.Count("v2") > 0, $"answers: {string.Join(", ", traffic.Answers)}");
        Assert.Equal(0, traffic.Answers.Where(a => !a.Key.StartsWith('v')).Sum(a => a.Value));

        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        // The controller records the failed rollout first and raises its alert just after: wait for it.
        JsonElement alert = default;
        await EventuallyAsync(async () =>
        {
            var (_, alerts) = await GetJsonAsync(reader, "/v1/alerts?status=firing");
            var matching = alerts.RootElement.EnumerateArray()
                .Where(a => a.GetProperty("alert").GetString() == "rollout-failed" && a.GetProperty("model").GetString() == name).ToList();
            Assert.True(matching.Count <= 1, $"{matching.Count} rollout-failed alerts for {name}");
            if (matching.Count == 1)
            {
                alert = matching[0].Clone();
            }
            return matching.Count == 1;
        }, "the rollout-failed alert fires");
        Assert.Equal(v2, alert.GetProperty("version").GetInt32());
        Assert.Equal(25, alert.GetProperty("threshold").GetDouble());
        Assert.Equal(p99, alert.GetProperty("value").GetDouble(), 0.001);
        Assert.Contains("p99", alert.GetProperty("summary").GetString());

        await EventuallyAsync(() => Task.FromResult(platform.Webhooks.Any(w => IsAbout(w, name, "rollout-failed"))), "the webhook receives the alert");
        var hook = platform.Webhooks.First(w => IsAbout(w, name, "rollout-failed")).RootElement;
        Assert.Equal("firing", hook.GetProperty("status").GetString());
        Assert.Equal(25, hook.GetProperty("threshold").GetDouble());
        Assert.Equal(p99, hook.GetProperty("value").GetDouble(), 0.001);
    }

    [Fact]
    public async Task ARunningRolloutAndItsAnalysesSurviveARegistryRestartAndFinish()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("durable");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetAliasAsync(client, name, "production", v1);
        await using var traffic = Traffic.Start(client, name);
        var id = await StartAsync(client, name, new { version = v2, steps = new[] { 30, 60, 100 }, stepInterval = "2s", minRequests = 5, maxErrorRate = 0.05, maxP99Ms = 5000, deadline = "3m" });
        await EventuallyAsync(async () =>
        {
            var (_, rollout) = await GetJsonAsync(client, $"/v1/models/{name}/rollouts/{id}");
            return rollout.RootElement.GetProperty("currentStep").GetInt32() >= 1;
        }, "the rollout reaches its second step");
        // What was analysed before the restart (an "advance" at least, since a step was taken; a step with too few requests yet may
        // also have "wait"ed first on a loaded machine).
        var (_, beforeRestart) = await GetJsonAsync(client, $"/v1/models/{name}/rollouts/{id}");
        var analysedBefore = beforeRestart.RootElement.GetProperty("analyses").EnumerateArray()
            .Select(a => (At: a.GetProperty("at").GetDateTimeOffset(), Decision: a.GetProperty("decision").GetString())).ToArray();
        Assert.Contains(analysedBefore, a => a.Decision == "advance");

        var stop = await platform.App.ResourceCommands.ExecuteCommandAsync("modelregistry", KnownResourceCommands.StopCommand).WaitAsync(PlatformFixture.StartTimeout);
        Assert.True(stop.Success, stop.Message);
        await platform.App.ResourceNotifications.WaitForResourceAsync("modelregistry", [KnownResourceStates.Finished, KnownResourceStates.Exited])
            .WaitAsync(PlatformFixture.StartTimeout);
        var start = await platform.App.ResourceCommands.ExecuteCommandAsync("modelregistry", KnownResourceCommands.StartCommand).WaitAsync(PlatformFixture.StartTimeout);
        Assert.True(start.Success, start.Message);
        await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("modelregistry").WaitAsync(PlatformFixture.StartTimeout);
        await platform.WaitForGatewayRouteAsync($"/v1/models/{name}");

        var finished = await WaitForOutcomeAsync(client, name, id);
        Assert.Equal("succeeded", finished.GetProperty("status").GetString());
        var analysedAfter = finished.GetProperty("analyses").EnumerateArray()
            .Select(a => (At: a.GetProperty("at").GetDateTimeOffset(), Decision: a.GetProperty("decision").GetString())).ToArray();
        Assert.Equal(analysedBefore, analysedAfter.Take(analysedBefore.Length));
        Assert.True(analysedAfter.Length > analysedBefore.Length, "the restarted controller analysed the remaining steps");
        Assert.Equal("promote", analysedAfter.Last().Decision);
        var (_, production) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production");
        Assert.Equal(v2, production.RootElement.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task ASecondRolloutWhileOneRunsConflictsAndAbortingRemovesTheCanary()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("abort");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetAliasAsync(client, name, "production", v1);
        var id = await StartAsync(client, name, new { version = v2, stepInterval = "1h", deadline = "2h" });

        var (canaryStatus, canary) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/canary");
        Assert.Equal(HttpStatusCode.OK, canaryStatus);
        Assert.Equal(10, canary.RootElement.GetProperty("weight").GetInt32());
        using var second = await client.PostAsJsonAsync($"/v1/models/{name}/rollouts", new { version = v2 }).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        using (var problem = JsonDocument.Parse(await second.Content.ReadAsStringAsync()))
        {
            Assert.Equal($"Another rollout of '{name}' is running; abort it (DELETE) or wait for it to finish.", problem.RootElement.GetProperty("detail").GetString());
        }

        using var abort = await client.DeleteAsync($"/v1/models/{name}/rollouts/{id}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, abort.StatusCode);
        var (_, aborted) = await GetJsonAsync(client, $"/v1/models/{name}/rollouts/{id}");
        Assert.Equal("aborted", aborted.RootElement.GetProperty("status").GetString());
        Assert.Equal(new[] { 10, 25, 50, 100 }, aborted.RootElement.GetProperty("steps").EnumerateArray().Select(s => s.GetInt32()));
        Assert.Equal("1h", aborted.RootElement.GetProperty("stepInterval").GetString());
        (canaryStatus, _) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/canary");
        Assert.Equal(HttpStatusCode.NotFound, canaryStatus);
        var (_, production) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production");
        Assert.Equal(v1, production.RootElement.GetProperty("version").GetInt32());
    }

    [Theory]
    [InlineData("""{"steps":[10,50]}""", "'version' is required and must be a version number (an integer from 1).")]
    [InlineData("""{"version":2,"steps":[50,10]}""", "'steps' are 1 to 20 canary weights from 1 to 100, strictly increasing, such as [10, 25, 50, 100].")]
    [InlineData("""{"version":2,"stepInterval":"30 seconds"}""", "'stepInterval' is a duration from 1s to 1h, such as 30s or 5m.")]
    [InlineData("""{"version":2,"maxErrorRate":2}""", "'maxErrorRate' is a fraction from 0 to 1.")]
    public async Task AnInvalidRolloutIsRefusedWithWhatToFix(string body, string detail)
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("invalid");
        await RegisterAsync(client, name, "linear-v1.onnx");

        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"/v1/models/{name}/rollouts", content).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(detail, problem.RootElement.GetProperty("detail").GetString());
    }

    internal static bool IsAbout(JsonDocument webhook, string model, string alert) =>
        webhook.RootElement.TryGetProperty("model", out var m) && m.GetString() == model && webhook.RootElement.GetProperty("alert").GetString() == alert;

    internal static async Task<string> StartAsync(HttpClient client, string name, object body)
    {
        using var response = await client.PostAsJsonAsync($"/v1/models/{name}/rollouts", body).WaitAsync(PlatformFixture.RequestTimeout);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"start rollout: {(int)response.StatusCode} {text}");
        using var created = JsonDocument.Parse(text);
        Assert.Equal("running", created.RootElement.GetProperty("status").GetString());
        Assert.Equal(response.Headers.Location?.OriginalString, $"/v1/models/{name}/rollouts/{created.RootElement.GetProperty("id").GetString()}");
        return created.RootElement.GetProperty("id").GetString()!;
    }

    internal static async Task<JsonElement> WaitForOutcomeAsync(HttpClient client, string name, string id)
    {
        var deadline = DateTime.UtcNow + RolloutTimeout;
        while (true)
        {
            var (status, body) = await GetJsonAsync(client, $"/v1/models/{name}/rollouts/{id}");
            Assert.Equal(HttpStatusCode.OK, status);
            var rollout = body.RootElement.Clone();
            if (rollout.GetProperty("status").GetString() != "running")
            {
                return rollout;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Rollout {id} still running: {rollout}");
            }
            await Task.Delay(250);
        }
    }
}
