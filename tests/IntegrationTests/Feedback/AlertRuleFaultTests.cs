using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MlPlatform.IntegrationTests.Batch;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>
/// The batch and scorer alert rules under real faults (a backlog behind stopped workers, a chunk that always fails, a killed scorer):
/// each alert fires once, is listed at <c>GET /v1/alerts</c> for a reader, resolves when the fault clears, and both changes reach the webhook.
/// </summary>
[Collection(AlertRuleFaultCollection.Name)]
public sealed class AlertRuleFaultTests(AlertRuleFaultFixture platform)
{
    private static readonly TimeSpan AlertTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task ABatchBacklogBehindStoppedWorkersFiresTheQueueDepthAlertWhichResolvesWhenTheWorkersDrainIt()
    {
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("backlog");
        await batch.RegisterAsync(name, "batch-linear.onnx");
        var before = await QuietAsync(reader, AlertRuleFaultFixture.QueueDepthRule);
        // 3000 chunks: far more than the workers take in the moment it needs to stop them.
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 20 }, 60_000);
        var workers = await ResourceProcesses.RunningAsync(platform, "batchscorer");
        Assert.Equal(2, workers.Count);
        await Task.WhenAll(workers.Select(w => ResourceProcesses.StopAsync(platform, w.ResourceId, w.Process)));

        var firing = await WaitForAlertAsync(reader, AlertRuleFaultFixture.QueueDepthRule, before, "firing");
        Assert.True(firing.GetProperty("value").GetDouble() > AlertRuleFaultFixture.QueueDepthThreshold, firing.ToString());
        Assert.Equal(AlertRuleFaultFixture.QueueDepthThreshold, firing.GetProperty("threshold").GetDouble());
        Assert.Equal("warning", firing.GetProperty("severity").GetString());
        Assert.EndsWith($"batch chunks are queued (threshold {AlertRuleFaultFixture.QueueDepthThreshold}).", firing.GetProperty("summary").GetString());
        Assert.Equal("/v1/batch/jobs", firing.GetProperty("links").GetProperty("jobs").GetString());
        Assert.False(firing.TryGetProperty("model", out _));

        await Task.WhenAll(workers.Select(w => ResourceProcesses.StartAsync(platform, w.ResourceId)));
        await platform.WaitForGatewayRouteAsync("/v1/batch/jobs");
        var job = await batch.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(60_000, job.GetProperty("rowsDone").GetInt64());

        var resolved = await WaitForAlertAsync(reader, AlertRuleFaultFixture.QueueDepthRule, before, "resolved");
        Assert.Equal(firing.GetProperty("id").GetInt64(), resolved.GetProperty("id").GetInt64());
        Assert.Equal(0, resolved.GetProperty("value").GetDouble());
        await AssertNotifiedOnceAsync(AlertRuleFaultFixture.QueueDepthRule, firing);
    }

    [Fact]
    public async Task AChunkThatAlwaysFailsFiresTheJobFailureAlertWhichResolvesWhenTheWindowPassesWithoutAnother()
    {
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("poison");
        await batch.RegisterAsync(name, "batch-poison.onnx");
        var before = await QuietAsync(reader, AlertRuleFaultFixture.JobFailuresRule);

        // A first value of 5 makes the poison model's Gather index out of bounds: ONNX Runtime fails every run of chunk 1.
        var data = string.Join("\n", Enumerable.Range(0, 300).Select(i => i == 150 ? "{\"input\":[5,0,0,0,0,0,0,0]}" : $"{{\"input\":[0.{i % 10},1,2,3,4,5,6,7]}}"));
        using var submitted = await batch.SubmitJsonAsync(new { model = name, input = new { format = "jsonl", data }, chunkSize = 100 });
        var id = await BatchTestClient.AcceptedIdAsync(submitted);
        var job = await batch.WaitForStatusAsync(id, "failed", TimeSpan.FromMinutes(2));
        Assert.StartsWith("Chunk 1 (rows 100-199) failed 2 times and was dead-lettered", job.GetProperty("error").GetString());

        var firing = await WaitForAlertAsync(reader, AlertRuleFaultFixture.JobFailuresRule, before, "firing");
        Assert.Equal(1, firing.GetProperty("value").GetDouble());
        Assert.Equal(0, firing.GetProperty("threshold").GetDouble());
        Assert.Equal("critical", firing.GetProperty("severity").GetString());
        Assert.Equal($"1 batch chunks were dead-lettered in {AlertRuleFaultFixture.JobFailuresWindowSeconds}s, failing their jobs (threshold 0).",
            firing.GetProperty("summary").GetString());

        var resolved = await WaitForAlertAsync(reader, AlertRuleFaultFixture.JobFailuresRule, before, "resolved");
        Assert.Equal(firing.GetProperty("id").GetInt64(), resolved.GetProperty("id").GetInt64());
        Assert.Equal(0, resolved.GetProperty("value").GetDouble());
        var firedAt = firing.GetProperty("firedAt").GetDateTimeOffset();
        var resolvedAt = resolved.GetProperty("resolvedAt").GetDateTimeOffset();
        Assert.True(resolvedAt - firedAt >= TimeSpan.FromSeconds(AlertRuleFaultFixture.JobFailuresWindowSeconds - 2),
            $"resolved {resolvedAt - firedAt} after firing, before the failure left the window");
        await AssertNotifiedOnceAsync(AlertRuleFaultFixture.JobFailuresRule, firing);
    }

    [Fact]
    public async Task AKilledOnlineScorerFiresTheScorerAlertWhichResolvesOnceItsReplacementIsReady()
    {
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("afterkill");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", v1);
        var before = await QuietAsync(reader, AlertRuleFaultFixture.ScorerRule);

        var (resourceId, scorer) = Assert.Single(await ResourceProcesses.RunningAsync(platform, "onlinescorer"));
        scorer.Kill(entireProcessTree: true);
        await scorer.WaitForExitAsync().WaitAsync(PlatformFixture.RequestTimeout);

        var firing = await WaitForAlertAsync(reader, AlertRuleFaultFixture.ScorerRule, before, "firing");
        Assert.True(firing.GetProperty("value").GetDouble() >= 1, firing.ToString());
        Assert.Equal(0, firing.GetProperty("threshold").GetDouble());
        Assert.Equal("critical", firing.GetProperty("severity").GetString());
        Assert.Contains("online scorer replicas are not ready or stopped heartbeating", firing.GetProperty("summary").GetString());

        // The app host's supervisor starts it again on its own.
        await ResourceProcesses.WaitForRestartAsync(platform, resourceId, scorer, PlatformFixture.StartTimeout);
        var resolved = await WaitForAlertAsync(reader, AlertRuleFaultFixture.ScorerRule, before, "resolved");
        Assert.Equal(firing.GetProperty("id").GetInt64(), resolved.GetProperty("id").GetInt64());
        Assert.Equal(0, resolved.GetProperty("value").GetDouble());
        await AssertNotifiedOnceAsync(AlertRuleFaultFixture.ScorerRule, firing);
        var (status, _) = await GetJsonAsync(client, $"/v2/models/{name}/ready");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    /// <summary>Waits until <paramref name="rule"/> has no firing alert (one left from the platform's start resolves first); returns the newest alert id.</summary>
    private static async Task<long> QuietAsync(HttpClient reader, string rule)
    {
        var deadline = DateTime.UtcNow + AlertTimeout;
        while (true)
        {
            var alerts = await ListAsync(reader, "/v1/alerts?limit=1000");
            if (!alerts.Any(a => a.GetProperty("alert").GetString() == rule && a.GetProperty("status").GetString() == "firing"))
            {
                return alerts.Select(a => a.GetProperty("id").GetInt64()).DefaultIfEmpty(0).Max();
            }
            Assert.True(DateTime.UtcNow < deadline, $"'{rule}' was still firing before the test's fault: {string.Join(", ", alerts)}");
            await Task.Delay(250);
        }
    }

    /// <summary>The one alert of <paramref name="rule"/> fired after <paramref name="after"/>, once it has <paramref name="status"/>; a second one fails the test.</summary>
    private static async Task<JsonElement> WaitForAlertAsync(HttpClient reader, string rule, long after, string status)
    {
        var deadline = DateTime.UtcNow + AlertTimeout;
        while (true)
        {
            var ours = (await ListAsync(reader, "/v1/alerts?limit=1000"))
                .Where(a => a.GetProperty("alert").GetString() == rule && a.GetProperty("id").GetInt64() > after).ToList();
            Assert.True(ours.Count <= 1, $"'{rule}' fired more than once: {string.Join(", ", ours)}");
            if (ours.Count == 1 && ours[0].GetProperty("status").GetString() == status)
            {
                var (filteredStatus, filtered) = await GetJsonAsync(reader, $"/v1/alerts?status={status}");
                Assert.Equal(HttpStatusCode.OK, filteredStatus);
                Assert.Contains(filtered.RootElement.EnumerateArray(), a => a.GetProperty("id").GetInt64() == ours[0].GetProperty("id").GetInt64());
                return ours[0];
            }
            Assert.True(DateTime.UtcNow < deadline, $"'{rule}' did not become {status}: {string.Join(", ", ours)}");
            await Task.Delay(250);
        }
    }

    private static async Task<List<JsonElement>> ListAsync(HttpClient reader, string path)
    {
        var (status, body) = await GetJsonAsync(reader, path);
        Assert.Equal(HttpStatusCode.OK, status);
        using (body)
        {
            return body.RootElement.EnumerateArray().Select(a => a.Clone()).ToList();
        }
    }

    /// <summary>The webhook received the alert firing and then resolved, with the same body fields the list shows.</summary>
    private async Task AssertNotifiedOnceAsync(string rule, JsonElement firing)
    {
        var firedAt = firing.GetProperty("firedAt").GetDateTimeOffset();
        List<JsonElement> Ours() => platform.Webhooks.Select(w => w.RootElement)
            .Where(w => w.GetProperty("alert").GetString() == rule && w.GetProperty("at").GetDateTimeOffset() >= firedAt).ToList();
        await EventuallyAsync(() => Task.FromResult(Ours().Count >= 2), $"the webhook receives '{rule}' firing and resolved");
        var hooks = Ours();
        Assert.Equal(["firing", "resolved"], hooks.Select(h => h.GetProperty("status").GetString()));
        Assert.Equal(firing.GetProperty("value").GetDouble(), hooks[0].GetProperty("value").GetDouble());
        Assert.Equal(firing.GetProperty("severity").GetString(), hooks[0].GetProperty("severity").GetString());
        Assert.Equal(firing.GetProperty("summary").GetString(), hooks[0].GetProperty("summary").GetString());
    }
}

/// <summary>Processes of the app host's resources (each replica is a resource of its own), to stop, kill and start them as faults.</summary>
internal static class ResourceProcesses
{
    /// <summary>
    /// The running replicas of <paramref name="resource"/> (resource id and process), as the app host reports them: on the one-machine run
    /// each replica is its own resource, <c>name</c>, <c>name-2</c>, <c>name-3</c>….
    /// </summary>
    public static async Task<List<(string ResourceId, Process Process)>> RunningAsync(PlatformFixture platform, string resource)
    {
        var replicas = new Dictionary<string, int>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            // WatchAsync starts with the current state of every resource, replicas included.
            await foreach (var update in platform.App.ResourceNotifications.WatchAsync(cts.Token))
            {
                if (!IsReplicaOf(update.Resource.Name, resource))
                {
                    continue;
                }
                if (update.Snapshot.State?.Text == KnownResourceStates.Running &&
                    update.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid)
                {
                    replicas[update.ResourceId] = Convert.ToInt32(pid, CultureInfo.InvariantCulture);
                }
                else
                {
                    replicas.Remove(update.ResourceId);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        Assert.NotEmpty(replicas);
        return replicas.Select(r => (r.Key, Process.GetProcessById(r.Value))).ToList();
    }

    public static bool IsReplicaOf(string resourceName, string service) =>
        resourceName == service || (resourceName.StartsWith(service + "-", StringComparison.Ordinal) && int.TryParse(resourceName.AsSpan(service.Length + 1), out _));

    /// <summary>Waits until the app host's supervisor has started <paramref name="resourceId"/> again after <paramref name="killed"/> died, and it is healthy.</summary>
    public static async Task WaitForRestartAsync(PlatformFixture platform, string resourceId, Process killed, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var e in platform.App.ResourceNotifications.WatchAsync(cts.Token))
            {
                if (e.ResourceId == resourceId
                    && e.Snapshot.State?.Text == KnownResourceStates.Running
                    && e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
                    && e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid
                    && Convert.ToInt32(pid, CultureInfo.InvariantCulture) != killed.Id)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
        }
        Assert.Fail($"{resourceId} was not running and healthy again within {timeout.TotalSeconds} s of being killed.");
    }

    /// <summary>A graceful stop through the app host; what matters is that the process ends (under load the host may report its own wait as failed).</summary>
    public static async Task StopAsync(PlatformFixture platform, string resourceId, Process process)
    {
        await platform.App.ResourceCommands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StopCommand).WaitAsync(PlatformFixture.StartTimeout);
        await process.WaitForExitAsync().WaitAsync(PlatformFixture.StartTimeout);
    }

    public static async Task StartAsync(PlatformFixture platform, string resourceId)
    {
        var started = await platform.App.ResourceCommands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand).WaitAsync(PlatformFixture.StartTimeout);
        Assert.True(started.Success, started.Message);
    }
}
