using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace MlPlatform.IntegrationTests.Batch;

[Collection(BatchFaultCollection.Name)]
public sealed class BatchFaultTests(BatchFaultFixture platform)
{
    private const string LinearModel = "batch-linear.onnx";

    /// <summary>Same outputs as the linear model, ~8 MFLOP per row: a 40,000-row chunk takes 5 s or more of CPU, well over the fixture's 3 s idle time.</summary>
    private const string SlowModel = "batch-slow.onnx";

    private const int SlowChunkRows = 40_000;

    /// <summary>BatchFaultFixture's <c>ClaimIdleTime</c>.</summary>
    private static readonly TimeSpan ClaimIdleTime = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task AlwaysFailingChunkIsDeadLetteredAndFailsTheJobWithItsRowRange()
    {
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("batch-poison");
        await batch.RegisterAsync(name, "batch-poison.onnx");
        // A first value of 5 makes the poison model's Gather index out of bounds: ONNX Runtime fails every run of chunk 1.
        // Every other row starts with a value in [0, 1), which the model takes.
        var data = string.Join("\n", Enumerable.Range(0, 300).Select(i => i == 150 ? "{\"input\":[5,0,0,0,0,0,0,0]}" : $"{{\"input\":[0.{i % 10},1,2,3,4,5,6,7]}}"));

        using var submitted = await batch.SubmitJsonAsync(new { model = name, input = new { format = "jsonl", data }, chunkSize = 100 });
        var id = await BatchTestClient.AcceptedIdAsync(submitted);
        var job = await batch.WaitForStatusAsync(id, "failed", TimeSpan.FromMinutes(2));

        var error = job.GetProperty("error").GetString()!;
        Assert.StartsWith("Chunk 1 (rows 100-199) failed 2 times and was dead-lettered; last error: OnnxRuntimeException:", error);
        await using var redis = await ConnectRedisAsync();
        var dead = await redis.GetDatabase().StreamRangeAsync("mlplatform:batch:chunks:dead");
        var entry = Assert.Single(dead, e => e["job"] == id);
        Assert.Equal(1, (int)entry["chunk"]);
        Assert.Equal(100, (long)entry["firstRow"]);
        Assert.Equal(199, (long)entry["lastRow"]);
        Assert.Equal(2, (int)entry["deliveries"]);
        Assert.StartsWith("OnnxRuntimeException:", entry["error"].ToString());
    }

    [Fact]
    public async Task KilledWorkerReplicaChunksAreReclaimedAndEveryRowAppearsExactlyOnce()
    {
        const int rows = 60_000;
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("batch-kill");
        await batch.RegisterAsync(name, LinearModel);
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 100 }, rows);
        await batch.WaitForAsync(id, j => j.GetProperty("chunksDone").GetInt32() >= 20);

        var (victimId, victim) = (await RunningReplicasAsync()).First();
        victim.Kill(entireProcessTree: true);
        await victim.WaitForExitAsync().WaitAsync(PlatformFixture.RequestTimeout);

        var job = await batch.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(rows, job.GetProperty("rowsDone").GetInt64());
        Assert.Equal(600, job.GetProperty("chunksDone").GetInt32());
        await AssertEveryRowOnceAsync(batch, id, rows);
        await StartReplicaAsync(victimId);
    }

    [Fact]
    public async Task StoppedReplicaFinishesOrHandsBackItsChunksAndEveryRowAppearsExactlyOnce()
    {
        const int rows = 60_000;
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("batch-stop");
        await batch.RegisterAsync(name, LinearModel);
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 100 }, rows);
        await batch.WaitForAsync(id, j => j.GetProperty("chunksDone").GetInt32() >= 20);

        // A graceful stop (SIGTERM): the worker finishes a chunk at its last ORT batch or hands it back at a batch boundary;
        // if the app host has to kill it, the idle-time reclaim takes over. Either way no row is lost or doubled.
        var (replicaId, process) = (await RunningReplicasAsync()).First();
        var commands = platform.App.Services.GetRequiredService<ResourceCommandService>();
        // Under heavy load the app host may report a stop that outlasts its own wait as failed; what matters is that the process ends.
        await commands.ExecuteCommandAsync(replicaId, KnownResourceCommands.StopCommand).WaitAsync(PlatformFixture.RequestTimeout);
        await process.WaitForExitAsync().WaitAsync(PlatformFixture.RequestTimeout);

        var job = await batch.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(rows, job.GetProperty("rowsDone").GetInt64());
        await AssertEveryRowOnceAsync(batch, id, rows);
        await StartReplicaAsync(replicaId);
    }

    [Fact]
    public async Task AChunkScoredForLongerThanTheClaimIdleTimeIsNeverTakenOverWhileItsWorkerRenewsTheClaim()
    {
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        // One chunk: while one loop scores it, the other three loops of the two replicas poll XAUTOCLAIM for chunks idle over 3 s.
        var id = await SubmitSlowSingleChunkJobAsync(batch, "batch-renew");

        var job = await batch.WaitForStatusAsync(id, "succeeded");

        var scoring = job.GetProperty("finishedAt").GetDateTimeOffset() - job.GetProperty("startedAt").GetDateTimeOffset();
        Assert.True(scoring > ClaimIdleTime, $"The chunk took {scoring}, too short to need a claim renewal; the test proves nothing.");
        Assert.Equal(1, job.GetProperty("chunksDone").GetInt32());
        await using var redis = await ConnectRedisAsync();
        Assert.Equal(1, (long)await redis.GetDatabase().HashGetAsync($"mlplatform:batch:job:{id}:attempts", 0));
        await AssertEveryRowOnceAsync(batch, id, SlowChunkRows);
    }

    [Fact]
    public async Task AReplicaStoppedMidChunkHandsTheChunkBackAsAFreshMessageThatTheOtherReplicaFinishes()
    {
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var id = await SubmitSlowSingleChunkJobAsync(batch, "batch-handback");
        await using var redis = await ConnectRedisAsync();
        var db = redis.GetDatabase();
        var (messageId, holder) = await WaitForHolderAsync(db, id);
        var original = await db.HashGetAsync($"mlplatform:batch:job:{id}:enqueued", 0);
        Assert.Equal(messageId, original.ToString());

        // The replica whose worker holds the chunk (its consumer name carries its process id) gets a graceful stop (SIGTERM).
        var (replicaId, process) = (await RunningReplicasAsync()).Single(r => IsSelfOrAncestor(r.Process.Id, holder));
        var commands = platform.App.Services.GetRequiredService<ResourceCommandService>();
        await commands.ExecuteCommandAsync(replicaId, KnownResourceCommands.StopCommand).WaitAsync(PlatformFixture.RequestTimeout);
        try
        {
            await process.WaitForExitAsync().WaitAsync(PlatformFixture.RequestTimeout);

            // Handed back: the holder's message is gone and a fresh one replaces it, at once, without waiting out the idle time.
            var handedBack = await db.HashGetAsync($"mlplatform:batch:job:{id}:enqueued", 0);
            Assert.NotEqual(original, handedBack);
            Assert.Empty(await db.StreamRangeAsync("mlplatform:batch:chunks", original.ToString(), original.ToString()));

            var job = await batch.WaitForStatusAsync(id, "succeeded");
            Assert.Equal(SlowChunkRows, job.GetProperty("rowsDone").GetInt64());
            // The delivery cut short by the stop was not counted: only the other replica's delivery was.
            Assert.Equal(1, (long)await db.HashGetAsync($"mlplatform:batch:job:{id}:attempts", 0));
            await AssertEveryRowOnceAsync(batch, id, SlowChunkRows);
        }
        finally
        {
            // The fixture is shared: a failed assertion must not leave later tests with one replica.
            await StartReplicaAsync(replicaId);
        }
    }

    /// <summary>Registers the slow model under a new name and submits <see cref="SlowChunkRows"/> rows as one chunk, which takes longer to score than the claim idle time; returns the job id.</summary>
    private static async Task<string> SubmitSlowSingleChunkJobAsync(BatchTestClient batch, string namePrefix)
    {
        var name = BatchTestClient.UniqueName(namePrefix);
        await batch.RegisterAsync(name, SlowModel);
        return await batch.SubmitRowsAsync(
            new { model = name, input = new { format = "jsonl" }, outputs = new[] { "probabilities" }, chunkSize = SlowChunkRows }, SlowChunkRows);
    }

    /// <summary>Waits until a worker holds the job's only chunk; returns the message id and the holder's process id.</summary>
    private static async Task<(string MessageId, int ProcessId)> WaitForHolderAsync(IDatabase db, string jobId)
    {
        var deadline = DateTime.UtcNow + PlatformFixture.RequestTimeout;
        while (true)
        {
            foreach (var pending in await db.StreamPendingMessagesAsync("mlplatform:batch:chunks", "batchscorer", 100, RedisValue.Null))
            {
                var entry = await db.StreamRangeAsync("mlplatform:batch:chunks", pending.MessageId, pending.MessageId);
                if (entry is [var message] && message["job"] == jobId)
                {
                    // Consumer names are "{machine}-{pid}-{random}".
                    var parts = pending.ConsumerName.ToString().Split('-');
                    return (pending.MessageId.ToString(), int.Parse(parts[^2], System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            Assert.True(DateTime.UtcNow < deadline, "No worker took the chunk.");
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>Whether <paramref name="ancestor"/> is <paramref name="pid"/> or one of its parents (the app host may launch a replica through a launcher process).</summary>
    private static bool IsSelfOrAncestor(int ancestor, int pid)
    {
        for (var current = pid; current > 1;)
        {
            if (current == ancestor)
            {
                return true;
            }
            var stat = File.ReadAllText($"/proc/{current}/stat");
            // "pid (comm) state ppid ...": comm may contain spaces, so parse after its closing parenthesis.
            current = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        return false;
    }

    [Fact]
    public async Task RedisRestartMidJobLosesNoAcceptedWork()
    {
        const int rows = 60_000;
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("batch-redis");
        await batch.RegisterAsync(name, LinearModel);
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 100 }, rows);
        await batch.WaitForAsync(id, j => j.GetProperty("chunksDone").GetInt32() >= 20);

        var commands = platform.App.Services.GetRequiredService<ResourceCommandService>();
        var stopped = await commands.ExecuteCommandAsync("redis", KnownResourceCommands.StopCommand).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.True(stopped.Success, stopped.Message);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var started = await commands.ExecuteCommandAsync("redis", KnownResourceCommands.StartCommand).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.True(started.Success, started.Message);
        await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("redis").WaitAsync(PlatformFixture.StartTimeout);

        var job = await batch.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(rows, job.GetProperty("rowsDone").GetInt64());
        Assert.Equal(0, job.GetProperty("rowsFailed").GetInt64());
        await AssertEveryRowOnceAsync(batch, id, rows);
    }

    [Fact]
    public async Task ChunksLostFromTheStreamAreReenqueuedByTheReconciler()
    {
        const int rows = 60_000;
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("batch-trim");
        await batch.RegisterAsync(name, LinearModel);
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 100 }, rows);
        await batch.WaitForAsync(id, j => j.GetProperty("chunksDone").GetInt32() >= 5);

        // What a Redis crash inside its fsync window does to the queue: the waiting messages are gone.
        await using (var redis = await ConnectRedisAsync())
        {
            await redis.GetDatabase().StreamTrimAsync("mlplatform:batch:chunks", 0);
        }

        var job = await batch.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(rows, job.GetProperty("rowsDone").GetInt64());
        await AssertEveryRowOnceAsync(batch, id, rows);
    }

    [Fact]
    public async Task JobsARedisForgotAreRestoredFromTheDataFolderAndComplete()
    {
        const int rows = 60_000;
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("batch-flush");
        await batch.RegisterAsync(name, LinearModel);
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 100 }, rows);
        await batch.WaitForAsync(id, j => j.GetProperty("chunksDone").GetInt32() >= 5);

        await using (var redis = await ConnectRedisAsync(admin: true))
        {
            await redis.GetServers().Single().FlushAllDatabasesAsync();
        }

        var job = await batch.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(rows, job.GetProperty("rowsDone").GetInt64());
        Assert.Equal(600, job.GetProperty("chunksDone").GetInt32());
        Assert.Equal(name, job.GetProperty("model").GetString());
        await AssertEveryRowOnceAsync(batch, id, rows);
    }

    [Fact]
    public async Task FinishedJobsAndTheirFilesAreRemovedOnceTheirRetentionHasPassed()
    {
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("batch-retention");
        await batch.RegisterAsync(name, LinearModel);
        var expired = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 10 }, 20);
        var kept = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 10 }, 20);
        await batch.WaitForStatusAsync(expired, "succeeded");
        await batch.WaitForStatusAsync(kept, "succeeded");

        // Eight days ago, past the default seven days of BatchJobOptions:RetentionDays: created then (the index score) and finished then.
        var longAgo = DateTimeOffset.UtcNow.AddDays(-8);
        await using (var redis = await ConnectRedisAsync())
        {
            var db = redis.GetDatabase();
            await db.SortedSetAddAsync("mlplatform:batch:jobs:succeeded", expired, longAgo.ToUnixTimeMilliseconds());
            await db.HashSetAsync($"mlplatform:batch:job:{expired}", "finishedAt", longAgo.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }

        await Online.OnlineScorerClient.EventuallyAsync(async () =>
        {
            using var response = await batch.Http.GetAsync($"/v1/batch/jobs/{expired}").WaitAsync(PlatformFixture.RequestTimeout);
            return response.StatusCode == HttpStatusCode.NotFound;
        }, "the reconciler removes the expired job");
        Assert.False(Directory.Exists(Path.Combine(platform.DataDir, "batch", "jobs", expired)), "The expired job's folder is still there.");
        Assert.Equal("succeeded", (await batch.GetJobAsync(kept)).GetProperty("status").GetString());
        Assert.True(Directory.Exists(Path.Combine(platform.DataDir, "batch", "jobs", kept)));
    }

    [Fact]
    public async Task WhileRedisIsDownAJobReadAnswers503WithRetryAfterAndNoInternalTypeName()
    {
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var commands = platform.App.Services.GetRequiredService<ResourceCommandService>();
        var stopped = await commands.ExecuteCommandAsync("redis", KnownResourceCommands.StopCommand).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.True(stopped.Success, stopped.Message);
        try
        {
            using var response = await batch.Http.GetAsync("/v1/batch/jobs/0123456789abcdef").WaitAsync(PlatformFixture.RequestTimeout);
            var body = await response.Content.ReadAsStringAsync();

            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
            Assert.Equal("5", response.Headers.GetValues("Retry-After").Single());
            Assert.Equal("Job state unavailable", BatchTestClient.Problem(body).GetProperty("title").GetString());
            Assert.DoesNotContain("StackExchange", body);
        }
        finally
        {
            var started = await commands.ExecuteCommandAsync("redis", KnownResourceCommands.StartCommand).WaitAsync(PlatformFixture.RequestTimeout);
            Assert.True(started.Success, started.Message);
            await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("redis").WaitAsync(PlatformFixture.StartTimeout);
        }
    }

    [Fact]
    public async Task FillingTheResponseCachePastItsBoundEvictsCacheEntriesAndNeverAQueueOrJobKey()
    {
        var batch = new BatchTestClient(platform.CreateGatewayClient());
        var name = BatchTestClient.UniqueName("batch-cachefill");
        await batch.RegisterAsync(name, LinearModel);
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 10 }, 20);
        await batch.WaitForStatusAsync(id, "succeeded");

        await using var state = await ConnectRedisAsync(admin: true);
        var cacheConnection = await platform.App.GetConnectionStringAsync("redis-cache").AsTask().WaitAsync(PlatformFixture.RequestTimeout);
        await using var cache = await ConnectionMultiplexer.ConnectAsync(cacheConnection + ",allowAdmin=true").WaitAsync(PlatformFixture.RequestTimeout);
        var stateServer = state.GetServers().Single();
        var cacheServer = cache.GetServers().Single();
        Assert.Equal("noeviction", (await stateServer.ConfigGetAsync("maxmemory-policy")).Single().Value);
        Assert.NotEqual("0", (await stateServer.ConfigGetAsync("maxmemory")).Single().Value);
        Assert.Equal("allkeys-lru", (await cacheServer.ConfigGetAsync("maxmemory-policy")).Single().Value);
        Assert.Equal($"{BatchFaultFixture.CacheMaxMemoryMegabytes * 1024 * 1024}", (await cacheServer.ConfigGetAsync("maxmemory")).Single().Value);
        var stateKeys = new RedisKey[] { "mlplatform:batch:jobs", $"mlplatform:batch:job:{id}", $"mlplatform:batch:job:{id}:done", "mlplatform:batch:chunks" };
        Assert.All(stateKeys, key => Assert.True(state.GetDatabase().KeyExists(key), $"{key} is missing before the fill."));

        // Twice the cache's bound in response-cache entries (the scorer's key prefix), written as fast as the cache takes them.
        var value = new byte[64 * 1024];
        var db = cache.GetDatabase();
        var entries = 2 * BatchFaultFixture.CacheMaxMemoryMegabytes * 1024 * 1024 / value.Length;
        for (var i = 0; i < entries; i += 64)
        {
            await Task.WhenAll(Enumerable.Range(i, 64).Select(j => db.StringSetAsync($"mlplatform:infer-cache:fill:{j}", value)));
        }

        var cacheInfo = (await cacheServer.InfoAsync("stats")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        Assert.True(long.Parse(cacheInfo["evicted_keys"], System.Globalization.CultureInfo.InvariantCulture) > 0, "The cache evicted nothing.");
        var stateInfo = (await stateServer.InfoAsync("stats")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("0", stateInfo["evicted_keys"]);
        Assert.All(stateKeys, key => Assert.True(state.GetDatabase().KeyExists(key), $"{key} was lost."));
        Assert.Equal("succeeded", (await batch.GetJobAsync(id)).GetProperty("status").GetString());
    }

    private static async Task AssertEveryRowOnceAsync(BatchTestClient batch, string id, int rows)
    {
        var (response, body) = await batch.GetResultsAsync(id);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(rows, lines.Length);
        var expected = BatchTestClient.ExpectedOutputs(LinearModel, "probabilities", rows);
        for (var i = 0; i < rows; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            Assert.Equal(i, line.RootElement.GetProperty("row").GetInt64());
            BatchTestClient.AssertClose(expected[i],
                line.RootElement.GetProperty("outputs").GetProperty("probabilities").EnumerateArray().Select(v => v.GetSingle()).ToArray(), i);
        }
    }

    /// <summary>The running batch scorer replicas (resource id and process), as the app host reports them.</summary>
    private async Task<List<(string ResourceId, Process Process)>> RunningReplicasAsync()
    {
        var replicas = new Dictionary<string, int>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            // WatchAsync starts with the current state of every resource, replicas included.
            await foreach (var update in platform.App.ResourceNotifications.WatchAsync(cts.Token))
            {
                if (update.Resource.Name != "batchscorer")
                {
                    continue;
                }
                if (update.Snapshot.State?.Text == KnownResourceStates.Running &&
                    update.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid)
                {
                    replicas[update.ResourceId] = Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture);
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

    /// <summary>Brings a stopped or killed replica back, so the next test has two again.</summary>
    private async Task StartReplicaAsync(string resourceId)
    {
        var commands = platform.App.Services.GetRequiredService<ResourceCommandService>();
        var started = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.True(started.Success, started.Message);
        var deadline = DateTime.UtcNow + PlatformFixture.StartTimeout;
        while ((await RunningReplicasAsync()).All(r => r.ResourceId != resourceId))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Replica {resourceId} did not come back.");
        }
    }

    private async Task<ConnectionMultiplexer> ConnectRedisAsync(bool admin = false)
    {
        var connectionString = await platform.App.GetConnectionStringAsync("redis").AsTask().WaitAsync(PlatformFixture.RequestTimeout);
        return await ConnectionMultiplexer.ConnectAsync(connectionString + (admin ? ",allowAdmin=true" : "")).WaitAsync(PlatformFixture.RequestTimeout);
    }
}
