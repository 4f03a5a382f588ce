using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MlPlatform.GrpcContracts;
using MlPlatform.IntegrationTests.Batch;
using MlPlatform.IntegrationTests.Feedback;
using StackExchange.Redis;
using Xunit.Abstractions;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Supervision;

/// <summary>
/// SIGKILL of each kind of service on the one-machine run: the process is healthy again within 15 s, requests meanwhile get a fast 503 with
/// Retry-After naming the backend (never a 100 s wait and a 504), and work in flight survives. A service that exits at once on every
/// start is left stopped after five restarts, marked failed, and raises the <c>service-crash-loop</c> alert.
/// </summary>
[Collection(SupervisorCollection.Name)]
public sealed class SupervisorTests(SupervisorFixture platform, ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>
    /// How long a killed service may take to be healthy again: the 15 s. Services are launched from their built assembly (each
    /// restart used to run 'dotnet run', i.e. MSBuild, and took 17 s to 2.5 min). This collection runs alone; the last full runs measured
    /// 5.2 s (registry) to 7.6 s (both batch replicas) from the kill to healthy, most of it the runtime's start (about 3.8 s in Debug) and
    /// the app host's next health probe. Restart times are written to the test output. On a machine loaded far beyond its cores (load
    /// 45-55 on 2 cores) a Debug service's start alone took 16 s;
    /// the bound stays the issue's, not one widened for such a machine.
    /// </summary>
    private static readonly TimeSpan RestartBound = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The gateway answers for a dead backend in under a second (issue 15); measured 7-380 ms at load average 35. Each single answer is
    /// held to this wider bound (one CPU-starved moment on a shared machine must not fail the test), still far from the 100 s the gateway
    /// used to wait on a dead replica; the median of many (<see cref="UnavailableTarget"/>) is held to the target itself.
    /// </summary>
    private static readonly TimeSpan UnavailableBound = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan UnavailableTarget = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Every test starts from a whole platform: a service killed by the previous one is back and answers its own <c>/health</c>
    /// (the dashboard's health of a restarted instance can still be its predecessor's for a moment).
    /// </summary>
    public async Task InitializeAsync()
    {
        foreach (var service in new[] { "modelregistry", "onlinescorer", "batchscorer", SupervisorFixture.LoopingReplica, "gateway" })
        {
            await WaitForHealthAsync(service, PlatformFixture.StartTimeout);
        }
    }

    private async Task WaitForHealthAsync(string service, TimeSpan timeout)
    {
        using var http = platform.App.CreateHttpClient(service, "http");
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("/health").WaitAsync(PlatformFixture.RequestTimeout);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            Assert.True(DateTime.UtcNow < deadline, $"{service} did not answer /health within {timeout}");
            await Task.Delay(250);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task BatchReplicasKilledMidJobAreRestartedMeanwhileTheGatewayAnswers503AndTheJobSucceedsWithEveryRowOnce()
    {
        const int rows = 20_000;
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("supervised");
        await batch.RegisterAsync(name, BatchFaultTests.LinearModel);
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 100 }, rows);
        await batch.WaitForAsync(id, j => j.GetProperty("chunksDone").GetInt32() >= 10);

        var replicas = await ResourceProcesses.RunningAsync(platform, "batchscorer");
        Assert.Equal(2, replicas.Count);
        var timelines = replicas.Select(r => RestartTimeline.Start(platform, ResourceNameOf(r.ResourceId), r.ResourceId, r.Process.Id)).ToList();
        var killedAt = Stopwatch.StartNew();
        foreach (var (_, process) in replicas)
        {
            process.Kill(entireProcessTree: true);
        }
        await Task.WhenAll(replicas.Select(r => r.Process.WaitForExitAsync().WaitAsync(PlatformFixture.RequestTimeout)));

        // Both replicas dead: the gateway is refused by both at once and says so.
        var (status, retryAfter, body, took) = await TimedGetAsync(batch.Http, $"/v1/batch/jobs/{id}");
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{(int)status}: {body}");
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        Assert.Contains("No live instance of 'batchscorer'", Problem(body));
        Assert.True(took < UnavailableBound, $"the 503 took {took}");

        await Task.WhenAll(replicas.Select(r => ResourceProcesses.WaitForRestartAsync(platform, r.ResourceId, r.Process, RestartBound - killedAt.Elapsed)));
        await WaitForHealthAsync("batchscorer", RestartBound - killedAt.Elapsed);
        await WaitForHealthAsync(SupervisorFixture.LoopingReplica, RestartBound - killedAt.Elapsed);
        var healthyAfter = killedAt.Elapsed;
        timelines.ForEach(t => t.Mark("both answer /health directly"));
        await EventuallyAsync(async () => (await TimedGetAsync(batch.Http, $"/v1/batch/jobs/{id}")).Status == HttpStatusCode.OK, "the gateway routes to the restarted batch scorers");
        foreach (var timeline in timelines)
        {
            timeline.Mark("routed to by the gateway");
            output.WriteLine(timeline.Describe());
            await timeline.DisposeAsync();
        }
        output.WriteLine($"503 for the dead batch scorer after {took.TotalMilliseconds:0} ms; both replicas healthy again {healthyAfter.TotalSeconds:0.0} s after the kill, routed to by the gateway again after {killedAt.Elapsed.TotalSeconds:0.0} s");
        var job = await batch.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(rows, job.GetProperty("rowsDone").GetInt64());
        await BatchFaultTests.AssertEveryRowOnceAsync(batch, id, rows);
    }

    [Fact]
    public async Task AnOnlineScorerKilledUnderLoadIsRestartedAndRequestsMeanwhileGet503WithRetryAfterAndGrpcCallsUnavailable()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("supervised");
        var (version, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", version);
        using var input = LinearInput(1f);
        var body = Online.OnlineScorerShutdownTests.JsonRequest(input);
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(platform.CreateGatewayGrpcChannel());
        var grpcRequest = new ModelInferRequest
        {
            ModelName = name,
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 1, 4 }, Contents = new InferTensorContents { Fp32Contents = { 1f, 2f, 3f, 4f } } } },
        };
        var (resourceId, scorer) = Assert.Single(await ResourceProcesses.RunningAsync(platform, "onlinescorer"));

        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 3).Select(_ => LoadAsync(client, $"/v2/models/{name}/infer", body, stop.Token)).ToArray();
        var grpcLoad = GrpcLoadAsync(grpc, grpcRequest, stop.Token);
        await Task.Delay(500);
        var sinceKill = Stopwatch.StartNew();
        scorer.Kill(entireProcessTree: true);
        await scorer.WaitForExitAsync().WaitAsync(PlatformFixture.RequestTimeout);
        var deadAt = DateTime.UtcNow;
        await ResourceProcesses.WaitForRestartAsync(platform, resourceId, scorer, RestartBound);
        await WaitForHealthAsync("onlinescorer", RestartBound - sinceKill.Elapsed);
        var restartedAfter = sinceKill.Elapsed;
        // Until the gateway's health checks have taken the new process back into rotation, and a few answers after that.
        await EventuallyAsync(async () => (await PostJsonAsync(client, $"/v2/models/{name}/infer", body)).Status == HttpStatusCode.OK, "the gateway routes to the restarted scorer");
        var routedAfter = sinceKill.Elapsed;
        await Task.Delay(1000);
        stop.Cancel();
        var outcomes = (await Task.WhenAll(load)).SelectMany(o => o).ToList();
        var grpcOutcomes = await grpcLoad;

        var unavailable = outcomes.Where(o => o.Status == HttpStatusCode.ServiceUnavailable).ToList();
        var grpcUnavailable = grpcOutcomes.Where(o => o.Status == StatusCode.Unavailable).ToList();
        output.WriteLine($"online scorer healthy again {restartedAfter.TotalSeconds:0.0} s after the kill, routed to by the gateway again after {routedAfter.TotalSeconds:0.0} s; {outcomes.Count} REST requests: " +
            string.Join(", ", outcomes.GroupBy(o => (int)o.Status).Select(g => $"{g.Count()} x {g.Key}")) +
            (unavailable.Count > 0 ? $"; 503 in {Percentiles(unavailable.Select(o => o.Took))}" : "") +
            $"; {grpcOutcomes.Count} gRPC calls: " + string.Join(", ", grpcOutcomes.GroupBy(o => o.Status).Select(g => $"{g.Count()} x {g.Key}")) +
            (grpcUnavailable.Count > 0 ? $"; UNAVAILABLE in {Percentiles(grpcUnavailable.Select(o => o.Took))}" : ""));
        Assert.NotEmpty(unavailable);
        Assert.True(Median(unavailable.Select(o => o.Took)) < UnavailableTarget, $"the median 503 took {Median(unavailable.Select(o => o.Took))}");
        Assert.All(unavailable, o =>
        {
            Assert.Equal(TimeSpan.FromSeconds(1), o.RetryAfter);
            Assert.Contains("No live instance of 'onlinescorer'", JsonDocument.Parse(o.Body).RootElement.GetProperty("error").GetString());
            Assert.True(o.Took < UnavailableBound, $"a 503 took {o.Took}");
        });
        // Requests the scorer was serving when it died broke mid-way (502: the backend may have acted on them); every later one is 503 or 200.
        Assert.All(outcomes.Where(o => o.SentAt > deadAt.AddMilliseconds(500)),
            o => Assert.True(o.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{(int)o.Status}: {o.Body}"));
        Assert.Equal(HttpStatusCode.OK, outcomes[^1].Status);
        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync(client, $"/v2/models/{name}/infer", body)).Status);

        // gRPC: the gateway's own trailers-only UNAVAILABLE naming the backend (a bare HTTP 503 would read "Bad gRPC response").
        Assert.NotEmpty(grpcUnavailable);
        Assert.True(Median(grpcUnavailable.Select(o => o.Took)) < UnavailableTarget, $"the median UNAVAILABLE took {Median(grpcUnavailable.Select(o => o.Took))}");
        Assert.All(grpcUnavailable.Where(o => o.SentAt > deadAt.AddMilliseconds(500)), o =>
        {
            Assert.Contains("No live instance of 'onlinescorer-grpc'", o.Detail);
            Assert.True(o.Took < UnavailableBound, $"an UNAVAILABLE took {o.Took}");
        });
        Assert.All(grpcOutcomes.Where(o => o.SentAt > deadAt.AddMilliseconds(500)),
            o => Assert.True(o.Status is StatusCode.OK or StatusCode.Unavailable, $"{o.Status}: {o.Detail}"));
        Assert.Equal(StatusCode.OK, grpcOutcomes[^1].Status);
    }

    [Fact]
    public async Task AKilledRegistryIsRestartedAndMeanwhileRegistryRoutesGet503()
    {
        using var client = platform.CreateGatewayClient();
        var (resourceId, registry) = Assert.Single(await ResourceProcesses.RunningAsync(platform, "modelregistry"));
        await using var timeline = RestartTimeline.Start(platform, "modelregistry", resourceId, registry.Id);
        var killedAt = Stopwatch.StartNew();
        registry.Kill(entireProcessTree: true);
        await registry.WaitForExitAsync().WaitAsync(PlatformFixture.RequestTimeout);

        var (status, retryAfter, body, took) = await TimedGetAsync(client, "/v1/models");
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{(int)status}: {body}");
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        Assert.Contains("No live instance of 'modelregistry'", Problem(body));
        Assert.True(took < UnavailableBound, $"the 503 took {took}");

        await ResourceProcesses.WaitForRestartAsync(platform, resourceId, registry, RestartBound - killedAt.Elapsed);
        await WaitForHealthAsync("modelregistry", RestartBound - killedAt.Elapsed);
        var healthyAfter = killedAt.Elapsed;
        timeline.Mark("answers /health directly");
        await EventuallyAsync(async () => (await TimedGetAsync(client, "/v1/models")).Status == HttpStatusCode.OK, "the registry answers through the gateway");
        timeline.Mark("routed to by the gateway");
        output.WriteLine(timeline.Describe());
        output.WriteLine($"503 for the dead registry after {took.TotalMilliseconds:0} ms; healthy again {healthyAfter.TotalSeconds:0.0} s after the kill, routed to by the gateway again after {killedAt.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task WhileRedisIsDownBatchRoutesGet503WithAPlainMessageAndAKilledRedisComesBackWithItsData()
    {
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("aof");
        await batch.RegisterAsync(name, BatchFaultTests.LinearModel);
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 100 }, 200);
        await batch.WaitForStatusAsync(id, "succeeded");
        await Task.Delay(1500); // The append-only file is synced every second.

        // Stopped on purpose, Redis stays down (the supervisor leaves it) while the batch scorer is asked about jobs.
        var stopped = await platform.App.ResourceCommands.ExecuteCommandAsync("redis", KnownResourceCommands.StopCommand).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.True(stopped.Success, stopped.Message);
        try
        {
            // Each answer comes at once, not after the Redis client's command timeout (it used to take 5.8 s): the route sees the
            // connection is down before it sends a command.
            var took = new List<TimeSpan>();
            foreach (var path in new[] { $"/v1/batch/jobs/{id}", "/v1/batch/jobs", $"/v1/batch/jobs/{id}", $"/v1/batch/jobs/{id}/results", "/v1/batch/jobs" })
            {
                var (status, retryAfter, body, one) = await TimedGetAsync(batch.Http, path);
                output.WriteLine($"GET {path} with Redis stopped: {(int)status} after {one.TotalMilliseconds:0} ms");
                Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{(int)status}: {body}");
                Assert.Equal(TimeSpan.FromSeconds(5), retryAfter);
                Assert.Equal("The batch scorer cannot reach the store that holds job state right now; retry in 5 s.", Problem(body));
                Assert.DoesNotContain("Exception", body);
                Assert.True(one < UnavailableBound, $"the 503 took {one}");
                took.Add(one);
            }
            Assert.True(Median(took) < UnavailableTarget, $"the batch routes' 503 took {Percentiles(took)}");
        }
        finally
        {
            var started = await platform.App.ResourceCommands.ExecuteCommandAsync("redis", KnownResourceCommands.StartCommand).WaitAsync(PlatformFixture.RequestTimeout);
            Assert.True(started.Success, started.Message);
        }
        await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("redis").WaitAsync(PlatformFixture.StartTimeout);

        // Killed, Redis is started again by the supervisor, from its append-only file: the job is still there.
        var (resourceId, redis) = Assert.Single(await ResourceProcesses.RunningAsync(platform, "redis"));
        var killedAt = Stopwatch.StartNew();
        redis.Kill();
        await ResourceProcesses.WaitForRestartAsync(platform, resourceId, redis, RestartBound);
        output.WriteLine($"Redis healthy again {killedAt.Elapsed.TotalSeconds:0.0} s after the kill");
        // Each batch replica reconnects on its own (within a second of Redis being back) and answers 503 + Retry-After until then.
        await batch.WaitForStatusAsync(id, "succeeded", PlatformFixture.RequestTimeout);
    }

    [Fact]
    public async Task AKilledGatewayRefusesConnectionsUntilItIsRestarted()
    {
        using var client = platform.CreateGatewayClient();
        var port = client.BaseAddress!.Port;
        var (resourceId, gateway) = Assert.Single(await ResourceProcesses.RunningAsync(platform, "gateway"));
        var killedAt = Stopwatch.StartNew();
        gateway.Kill(entireProcessTree: true);
        await gateway.WaitForExitAsync().WaitAsync(PlatformFixture.RequestTimeout);

        // The launcher is gone; its child may take a moment more to go (a connection is then accepted or reset), then the port refuses.
        var error = await ConnectErrorAsync(port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (error != System.Net.Sockets.SocketError.ConnectionRefused && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            error = await ConnectErrorAsync(port);
        }
        Assert.Equal(System.Net.Sockets.SocketError.ConnectionRefused, error);

        await ResourceProcesses.WaitForRestartAsync(platform, resourceId, gateway, RestartBound);
        await WaitForHealthAsync("gateway", RestartBound - killedAt.Elapsed);
        output.WriteLine($"gateway healthy again {killedAt.Elapsed.TotalSeconds:0.0} s after the kill");
        using var fresh = platform.CreateGatewayClient();
        using var response = await fresh.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AServiceThatExitsAtOnceIsLeftStoppedAfterFiveRestartsMarkedFailedAndRaisesTheCrashLoopAlert()
    {
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var (resourceId, replica) = Assert.Single(await ResourceProcesses.RunningAsync(platform, "batchscorer"), r => r.ResourceId.StartsWith(SupervisorFixture.LoopingReplica + "-", StringComparison.Ordinal));
        platform.CrashOnStart = true;
        try
        {
            var sinceKill = Stopwatch.StartNew();
            replica.Kill(entireProcessTree: true);
            var failed = await platform.App.ResourceNotifications.WaitForResourceAsync(SupervisorFixture.LoopingReplica,
                e => e.Snapshot.State?.Text == KnownResourceStates.FailedToStart).WaitAsync(TimeSpan.FromMinutes(2));
            output.WriteLine($"crash loop: left stopped and marked failed {sinceKill.Elapsed.TotalSeconds:0.0} s after the first kill");
            Assert.Equal(KnownResourceStateStyles.Error, failed.Snapshot.State?.Style);
            Assert.StartsWith("crash loop: exited again after 5 restarts", failed.Snapshot.Properties.Single(p => p.Name == "supervisor.status").Value?.ToString());

            // The events stream tells the story: crashes, five restarts, and a last crash that was not restarted.
            var connectionString = await platform.App.GetConnectionStringAsync("redis").AsTask().WaitAsync(PlatformFixture.RequestTimeout);
            await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString ?? throw new InvalidOperationException("Redis has no connection string."));
            var events = await WaitForEventsAsync(redis, resourceId, e => e.Any(x => x.GetProperty("gaveUp").GetBoolean()));
            Assert.Equal(5, events.Count(e => e.GetProperty("type").GetString() == "service-restarted"));
            var last = events[^1];
            Assert.Equal("service-crashed", last.GetProperty("type").GetString());
            Assert.Equal(SupervisorFixture.LoopingReplica, last.GetProperty("service").GetString());
            Assert.Equal(5, last.GetProperty("restarts").GetInt32());

            var alert = await WaitForAlertAsync(reader, "service-crash-loop");
            Assert.Equal("critical", alert.GetProperty("severity").GetString());
            Assert.True(alert.GetProperty("value").GetDouble() > 5, alert.ToString());
            Assert.Equal(5, alert.GetProperty("threshold").GetDouble());
            Assert.StartsWith($"{SupervisorFixture.LoopingReplica} exited without being asked to", alert.GetProperty("summary").GetString());

            // Left stopped: nothing restarts it any more.
            await Task.Delay(3000);
            Assert.True(platform.App.ResourceNotifications.TryGetCurrentState(resourceId, out var current));
            Assert.Equal(KnownResourceStates.FailedToStart, current.Snapshot.State?.Text);
        }
        finally
        {
            // Fixed, an operator starts it again.
            platform.CrashOnStart = false;
            var started = await platform.App.ResourceCommands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand).WaitAsync(PlatformFixture.StartTimeout);
            Assert.True(started.Success, started.Message);
            await platform.App.ResourceNotifications.WaitForResourceAsync(SupervisorFixture.LoopingReplica,
                e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy).WaitAsync(PlatformFixture.StartTimeout);
        }
    }

    /// <summary>
    /// Between two requests of a load loop. Unpaced, the loops sent 20,000 requests in 40 s of outage, each logged twice by the gateway;
    /// behind that much log output the orchestrator reported the gateway's next exit (the next test's kill) about 90 s late.
    /// </summary>
    private static readonly TimeSpan LoadPause = TimeSpan.FromMilliseconds(50);

    private sealed record Outcome(DateTime SentAt, HttpStatusCode Status, TimeSpan? RetryAfter, string Body, TimeSpan Took);

    private sealed record GrpcOutcome(DateTime SentAt, StatusCode Status, string Detail, TimeSpan Took);

    private static async Task<List<GrpcOutcome>> GrpcLoadAsync(GRPCInferenceService.GRPCInferenceServiceClient client, ModelInferRequest request, CancellationToken stop)
    {
        var outcomes = new List<GrpcOutcome>();
        var key = PlatformFixture.GrpcKey(PlatformFixture.ReaderApiKey);
        while (!stop.IsCancellationRequested)
        {
            var sentAt = DateTime.UtcNow;
            var watch = Stopwatch.StartNew();
            try
            {
                await client.ModelInferAsync(request, key).ResponseAsync.WaitAsync(PlatformFixture.RequestTimeout);
                outcomes.Add(new GrpcOutcome(sentAt, StatusCode.OK, "", watch.Elapsed));
            }
            catch (RpcException failure)
            {
                outcomes.Add(new GrpcOutcome(sentAt, failure.StatusCode, failure.Status.Detail, watch.Elapsed));
            }
            await Task.Delay(LoadPause, CancellationToken.None);
        }
        return outcomes;
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> took)
    {
        var sorted = took.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static string Percentiles(IEnumerable<TimeSpan> took)
    {
        var sorted = took.Select(t => t.TotalMilliseconds).Order().ToList();
        return FormattableString.Invariant($"p50 {sorted[sorted.Count / 2]:0} ms, max {sorted[^1]:0} ms (n={sorted.Count})");
    }

    private static async Task<List<Outcome>> LoadAsync(HttpClient client, string path, string json, CancellationToken stop)
    {
        var outcomes = new List<Outcome>();
        while (!stop.IsCancellationRequested)
        {
            var sentAt = DateTime.UtcNow;
            var watch = Stopwatch.StartNew();
            using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(path, content).WaitAsync(PlatformFixture.RequestTimeout);
            var body = await response.Content.ReadAsStringAsync();
            outcomes.Add(new Outcome(sentAt, response.StatusCode, response.Headers.RetryAfter?.Delta, body, watch.Elapsed));
            await Task.Delay(LoadPause, CancellationToken.None);
        }
        return outcomes;
    }

    private static async Task<(HttpStatusCode Status, TimeSpan? RetryAfter, string Body, TimeSpan Took)> TimedGetAsync(HttpClient client, string path)
    {
        var watch = Stopwatch.StartNew();
        using var response = await client.GetAsync(path).WaitAsync(PlatformFixture.RequestTimeout);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.Headers.RetryAfter?.Delta, body, watch.Elapsed);
    }

    /// <summary>How a TCP connection to the gateway's port fails (<see cref="System.Net.Sockets.SocketError.Success"/> if it does not).</summary>
    private static async Task<System.Net.Sockets.SocketError> ConnectErrorAsync(int port)
    {
        using var socket = new System.Net.Sockets.TcpClient();
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(PlatformFixture.RequestTimeout);
            return System.Net.Sockets.SocketError.Success;
        }
        catch (System.Net.Sockets.SocketException failure)
        {
            return failure.SocketErrorCode;
        }
    }

    /// <summary>The resource a replica's id belongs to (ids are the name and a random suffix: <c>batchscorer-2-hdckjqqr</c>).</summary>
    private static string ResourceNameOf(string resourceId) => resourceId[..resourceId.LastIndexOf('-')];

    private static string Problem(string body) => JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString() ?? "";

    private static async Task<List<JsonElement>> WaitForEventsAsync(ConnectionMultiplexer redis, string instance, Func<List<JsonElement>, bool> complete)
    {
        var deadline = DateTime.UtcNow + PlatformFixture.RequestTimeout;
        while (true)
        {
            var events = (await redis.GetDatabase().StreamRangeAsync("mlplatform:events:log", "-", "+"))
                .Select(e => JsonDocument.Parse(e["event"].ToString()).RootElement)
                .Where(e => e.TryGetProperty("instance", out var i) && i.GetString() == instance)
                .ToList();
            if (complete(events) || DateTime.UtcNow > deadline)
            {
                return events;
            }
            await Task.Delay(250);
        }
    }

    private static async Task<JsonElement> WaitForAlertAsync(HttpClient reader, string rule)
    {
        var deadline = DateTime.UtcNow + PlatformFixture.RequestTimeout;
        while (true)
        {
            var alerts = await reader.GetFromJsonAsync<JsonElement>("/v1/alerts?status=firing").WaitAsync(PlatformFixture.RequestTimeout);
            var items = alerts.ValueKind == JsonValueKind.Array ? alerts : alerts.GetProperty("items");
            foreach (var alert in items.EnumerateArray())
            {
                if (alert.GetProperty("alert").GetString() == rule)
                {
                    return alert;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"no firing {rule} alert: {alerts}");
            await Task.Delay(500);
        }
    }
}
