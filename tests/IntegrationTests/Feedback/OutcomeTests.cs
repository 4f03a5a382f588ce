using System.Text.Json;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>
/// Whose fault an outcome was decides what the guard and rollouts judge: a client's mistakes, requests aimed at a pinned version and a
/// slowdown that hits production as much never roll anything back; an incompatible signature is refused at promotion instead.
/// </summary>
[Collection(FeedbackCollection.Name)]
public sealed class OutcomeTests(FeedbackFixture platform)
{
    private const string Malformed = """{"inputs":[{"name":"nope","shape":[1],"datatype":"FP32","data":[1]}]}""";

    [Fact]
    public async Task MalformedRequestsByAReaderAfterAPromotionAreClientErrorsAndRollNothingBack()
    {
        using var client = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var name = FeedbackFixture.MisusedModel;
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetAliasAsync(client, name, "production", v1);
        await SetAliasAsync(client, name, "production", v2);

        for (var i = 0; i < 80; i++)
        {
            var (status, body, response) = await PostJsonAsync(reader, $"/v2/models/{name}/infer", Malformed);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            body.Dispose();
            response.Dispose();
        }
        var sent = DateTimeOffset.UtcNow;

        JsonElement stats = default;
        await EventuallyAsync(async () =>
        {
            var (_, report) = await GetJsonAsync(reader, $"/v1/models/{name}/versions/{v2}/stats?window=5m");
            stats = report.RootElement.Clone();
            return stats.GetProperty("clientErrors").GetInt64() == 80;
        }, "the 80 requests show as client errors");
        Assert.Equal(80, stats.GetProperty("requests").GetInt64());
        Assert.Equal(0, stats.GetProperty("errors").GetInt64());
        Assert.Equal(0, stats.GetProperty("errorRate").GetDouble());
        Assert.Equal(0, stats.GetProperty("rejected").GetInt64());
        Assert.Equal(80, stats.GetProperty("routedRequests").GetInt64());
        // The console's series carries the classes too (its error chart draws client errors apart from server errors).
        var (_, series) = await GetJsonAsync(reader, $"/v1/models/{name}/versions/{v2}/stats/series?window=15m&step=15s");
        var counts = series.RootElement.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("counts")).ToList();
        Assert.Equal((80L, 0L, 0L), (counts.Sum(c => c.GetProperty("clientErrors").GetInt64()), counts.Sum(c => c.GetProperty("errors").GetInt64()),
            counts.Sum(c => c.GetProperty("rejected").GetInt64())));

        // The guard analyses a 3 s window: wait for two windows that hold the requests, then nothing may have moved.
        JsonElement guard = default;
        await EventuallyAsync(async () =>
        {
            var (_, list) = await GetJsonAsync(client, $"/v1/models/{name}/rollouts");
            guard = list.RootElement.EnumerateArray().First(r => r.GetProperty("kind").GetString() == "guard"
                && r.GetProperty("version").GetInt32() == v2).Clone();
            return guard.GetProperty("analyses").EnumerateArray().Count(a => a.GetProperty("at").GetDateTimeOffset() > sent.AddSeconds(3)) >= 2;
        }, "the guard analyses the windows after the requests");
        Assert.Equal("running", guard.GetProperty("status").GetString());
        Assert.All(guard.GetProperty("analyses").EnumerateArray(), a =>
        {
            Assert.Equal(0, a.GetProperty("errors").GetInt64());
            Assert.NotEqual("rollback", a.GetProperty("decision").GetString());
        });
        var (_, production) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production");
        Assert.Equal(v2, production.RootElement.GetProperty("version").GetInt32());
        var (_, history) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production/history");
        Assert.DoesNotContain(history.RootElement.EnumerateArray(), c => c.GetProperty("kind").GetString() == "rollback");

        // An operator still hears about the broken client, from the rule that watches client errors.
        await EventuallyAsync(async () =>
        {
            var (_, alerts) = await GetJsonAsync(reader, "/v1/alerts?status=firing");
            return alerts.RootElement.EnumerateArray().Any(a => a.GetProperty("alert").GetString() == "misused-client-errors"
                && a.GetProperty("version").GetInt32() == v2 && a.GetProperty("value").GetDouble() == 1.0);
        }, "the client-errors alert fires");
    }

    [Fact]
    public async Task MalformedRequestsAimedAtThePinnedCanaryDoNotFailItsRollout()
    {
        using var client = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var name = UniqueName("aimed");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetAliasAsync(client, name, "production", v1);
        await using var traffic = Traffic.Start(client, name);
        var id = await RolloutTests.StartAsync(client, name,
            new { version = v2, steps = new[] { 30, 100 }, stepInterval = "2s", minRequests = 5, maxErrorRate = 0.05, maxP99Ms = 5000, deadline = "2m" });

        using var stop = new CancellationTokenSource();
        var aimed = 0;
        var attack = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (status, body, response) = await PostJsonAsync(reader, $"/v2/models/{name}/versions/{v2}/infer", Malformed);
                Assert.Equal(HttpStatusCode.BadRequest, status);
                body.Dispose();
                response.Dispose();
                Interlocked.Increment(ref aimed);
            }
        });
        var rollout = await RolloutTests.WaitForOutcomeAsync(client, name, id);
        await stop.CancelAsync();
        await attack;

        Assert.Equal("succeeded", rollout.GetProperty("status").GetString());
        Assert.All(rollout.GetProperty("analyses").EnumerateArray(), a => Assert.Equal(0, a.GetProperty("errors").GetInt64()));
        Assert.True(aimed > 0);
        var (_, stats) = await GetJsonAsync(reader, $"/v1/models/{name}/versions/{v2}/stats?window=5m");
        Assert.True(stats.RootElement.GetProperty("clientErrors").GetInt64() > 0, stats.RootElement.ToString());
        Assert.Equal(0, stats.RootElement.GetProperty("errors").GetInt64());
    }

    [Fact]
    public async Task AnIncompatibleSignatureIsRefusedAtPromotionUnlessForcedAndTheForcedMoveIsRecorded()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("contract");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        // Another model's graph as version 2: its input is 'image', so every linear client's request would fail.
        var (v2, _) = await RegisterAsync(client, name, "conv.onnx");
        await SetAliasAsync(client, name, "production", v1);

        using (var refused = await client.PutAsJsonAsync($"/v1/models/{name}/aliases/production", new { version = v2, reason = "try" })
            .WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal("Incompatible signature", problem.RootElement.GetProperty("title").GetString());
            var differences = problem.RootElement.GetProperty("differences").EnumerateArray().Select(d => d.GetString()).ToList();
            Assert.Contains("input 'input' removed", differences);
            Assert.Contains(differences, d => d!.StartsWith("input 'image' (FP32 ", StringComparison.Ordinal) && d.EndsWith(") added as required", StringComparison.Ordinal));
        }
        using (var rollout = await client.PostAsJsonAsync($"/v1/models/{name}/rollouts", new { version = v2 }).WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.Conflict, rollout.StatusCode);
            using var problem = JsonDocument.Parse(await rollout.Content.ReadAsStringAsync());
            Assert.Contains("input 'input' removed", problem.RootElement.GetProperty("differences").EnumerateArray().Select(d => d.GetString()));
        }
        var (_, unchanged) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production");
        Assert.Equal(v1, unchanged.RootElement.GetProperty("version").GetInt32());

        using (var forced = await client.PutAsJsonAsync($"/v1/models/{name}/aliases/production", new { version = v2, reason = "new input format", force = true })
            .WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        }
        var (_, history) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production/history");
        var entries = history.RootElement.EnumerateArray().ToList();
        var move = entries[^1];
        Assert.Equal(v2, move.GetProperty("toVersion").GetInt32());
        Assert.True(move.GetProperty("forced").GetBoolean());
        Assert.Contains("input 'input' removed", move.GetProperty("differences").EnumerateArray().Select(d => d.GetString()));
        Assert.False(entries[^2].TryGetProperty("forced", out _));

        // Going back is a rollback: never blocked by the contract check.
        using var back = await client.PostAsJsonAsync($"/v1/models/{name}/rollback", new { reason = "clients broke" }).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        var (_, production) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production");
        Assert.Equal(v1, production.RootElement.GetProperty("version").GetInt32());
    }
}
