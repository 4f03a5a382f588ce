using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MlPlatform.IntegrationTests.Feedback;
using MlPlatform.IntegrationTests.Online;
using Xunit.Abstractions;
using static MlPlatform.IntegrationTests.Quality.QualityClient;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>
/// The guard's quality gate after a plain promotion (the feedback fixture's guard has <c>Guard:Gates:AccuracyDropMax</c>): the
/// swapped-classes version is watched without a verdict while its labels are missing, and rolled back with the measured drop once they
/// arrive, although they arrive after its requests left the guard's 3 s window.
/// </summary>
[Collection(FeedbackCollection.Name)]
public sealed class GuardQualityGateTests(FeedbackFixture platform, ITestOutputHelper output)
{
    /// <summary>Labelled requests on each side: above the fixture's <see cref="FeedbackFixture.GuardGateMinLabelled"/>.</summary>
    private const int Flowers = 90;

    [Fact]
    public async Task TheGuardWaitsForLabelsThenRollsTheSwappedVersionBackOnItsAccuracyDrop()
    {
        var clock = Stopwatch.StartNew();
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var name = await QualityTests.ServeIrisWithSwappedVersionAsync(admin);

        // The baseline: production (v1) answers 30 flowers of each species by name before the promotion, all labelled.
        await SendAsync(reader, $"/v2/models/{name}/infer", Flowers, 6, i => Invariant($"v1-{i}"), QualityTests.IrisFlower);
        await PostLabelsAsync(operatorClient, name, "v1-");

        await OnlineScorerClient.SetAliasAsync(admin, name, "production", 2);
        var guardId = await GuardIdAsync(admin, name);
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            await SendAsync(reader, $"/v2/models/{name}/infer", 1, 1, _ => $"probe-{Guid.NewGuid():N}", QualityTests.IrisFlower);
            return (await ReadPayloadsAsync(operatorClient, name, 2, 0)).Count > 0;
        }, "version 2 serves production");
        await SendAsync(reader, $"/v2/models/{name}/infer", Flowers, 6, i => Invariant($"v2-{i}"), QualityTests.IrisFlower);
        var sent = DateTimeOffset.UtcNow;
        await ReadPayloadsAsync(operatorClient, name, 2, Flowers + 1);

        // No labels yet: an analysis after those requests left the guard's 3 s window finds the gate inconclusive, and nothing moves.
        var unlabelled = await AnalysisAsync(admin, name, guardId, a => a.GetProperty("at").GetDateTimeOffset() > sent + TimeSpan.FromSeconds(3.5));
        var waiting = GateOf(unlabelled);
        Assert.Equal("inconclusive", waiting.GetProperty("result").GetString());
        Assert.Equal(JsonValueKind.Null, waiting.GetProperty("value").ValueKind);
        Assert.Contains("0 labelled rows of the version", waiting.GetProperty("detail").GetString());
        Assert.Contains(unlabelled.GetProperty("decision").GetString(), new[] { "pass", "wait" });
        var (_, stillRunning) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/rollouts/{guardId}");
        Assert.Equal("running", stillRunning.RootElement.GetProperty("status").GetString());
        var (_, stillPromoted) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/aliases/production");
        Assert.Equal(2, stillPromoted.RootElement.GetProperty("version").GetInt32());

        // The truth arrives late: the gate measures the version since its promotion, so these labels still count.
        await PostLabelsAsync(operatorClient, name, "v2-");
        JsonElement guard = default;
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            var (_, body) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/rollouts/{guardId}");
            guard = body.RootElement.Clone();
            return guard.GetProperty("status").GetString() != "running";
        }, "the guard of version 2 decides");

        Assert.Equal("failed", guard.GetProperty("status").GetString());
        var reason = guard.GetProperty("reason").GetString()!;
        Assert.StartsWith("rolled back to version 1: quality gate accuracyDropMax failed: accuracy drop ", reason);
        Assert.Contains($"on {Flowers} labelled rows", reason);
        Assert.EndsWith("exceeds 0.02", reason);
        var last = guard.GetProperty("analyses").EnumerateArray().Last();
        Assert.Equal("rollback", last.GetProperty("decision").GetString());
        var failed = GateOf(last);
        Assert.Equal("fail", failed.GetProperty("result").GetString());
        Assert.Equal(FeedbackFixture.GuardAccuracyDropMax, failed.GetProperty("threshold").GetDouble());
        // Setosa and versicolor swapped: v1 is right on (nearly) every flower, v2 only on the virginica third.
        var drop = failed.GetProperty("value").GetDouble();
        Assert.InRange(drop, 0.5, 0.8);
        Assert.Equal(Flowers, failed.GetProperty("count").GetInt64());

        var (_, production) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/aliases/production");
        Assert.Equal(1, production.RootElement.GetProperty("version").GetInt32());
        var (_, history) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/aliases/production/history");
        var rollback = history.RootElement.EnumerateArray().Last();
        Assert.Equal("rollback", rollback.GetProperty("kind").GetString());
        Assert.Equal("rollout-controller", rollback.GetProperty("actor").GetString());
        Assert.Equal(2, rollback.GetProperty("fromVersion").GetInt32());
        Assert.Equal(1, rollback.GetProperty("toVersion").GetInt32());
        var historyReason = rollback.GetProperty("reason").GetString()!;
        Assert.StartsWith($"guard {guardId}: quality gate accuracyDropMax failed: accuracy drop ", historyReason);
        Assert.EndsWith("exceeds 0.02", historyReason);

        await OnlineScorerClient.EventuallyAsync(() => Task.FromResult(platform.Webhooks.Any(w => RolloutTests.IsAbout(w, name, "guard-rollback"))),
            "the webhook receives the guard's alert");
        var hook = platform.Webhooks.First(w => RolloutTests.IsAbout(w, name, "guard-rollback")).RootElement;
        Assert.Equal(drop, hook.GetProperty("value").GetDouble(), 6);
        Assert.Equal(FeedbackFixture.GuardAccuracyDropMax, hook.GetProperty("threshold").GetDouble());
        output.WriteLine($"guard accuracy gate rollback: {clock.Elapsed.TotalSeconds:0.0} s ({reason})");
    }

    /// <summary>Each flower's true species as the label of request <paramref name="prefix"/>i.</summary>
    private static async Task PostLabelsAsync(HttpClient operatorClient, string name, string prefix)
    {
        var lines = string.Join('\n', Enumerable.Range(0, Flowers).Select(i => Invariant($$"""{"id":"{{prefix}}{{i}}","label":"{{QualityTests.Species[i % 3]}}"}""")));
        using var response = await operatorClient.PostAsync($"/v1/models/{name}/feedback", new StringContent(lines, Encoding.UTF8, "application/x-ndjson"))
            .WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>The id of the running guard of version 2 (the promotion replaced the guard of version 1).</summary>
    private static async Task<string> GuardIdAsync(HttpClient admin, string name)
    {
        var (_, list) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/rollouts");
        var guard = list.RootElement.EnumerateArray().First(r => r.GetProperty("kind").GetString() == "guard" && r.GetProperty("version").GetInt32() == 2);
        Assert.Equal("running", guard.GetProperty("status").GetString());
        Assert.Equal(FeedbackFixture.GuardAccuracyDropMax, guard.GetProperty("gates").GetProperty("accuracyDropMax").GetDouble());
        return guard.GetProperty("id").GetString()!;
    }

    /// <summary>Waits for the guard's first analysis that <paramref name="matches"/>.</summary>
    private static async Task<JsonElement> AnalysisAsync(HttpClient admin, string name, string guardId, Func<JsonElement, bool> matches)
    {
        JsonElement found = default;
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            var (_, body) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/rollouts/{guardId}");
            var analyses = body.RootElement.GetProperty("analyses").EnumerateArray().Where(matches).ToList();
            found = analyses.Count > 0 ? analyses[0].Clone() : default;
            return analyses.Count > 0;
        }, "the guard analyses the unlabelled requests");
        return found;
    }

    private static JsonElement GateOf(JsonElement analysis)
    {
        var gate = Assert.Single(analysis.GetProperty("gates").EnumerateArray());
        Assert.Equal("accuracyDropMax", gate.GetProperty("gate").GetString());
        return gate;
    }
}
