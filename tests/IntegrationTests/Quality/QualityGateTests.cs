using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MlPlatform.IntegrationTests.Feedback;
using MlPlatform.IntegrationTests.Online;
using Xunit.Abstractions;
using static MlPlatform.IntegrationTests.Quality.QualityClient;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>
/// Quality gates on rollouts: the swapped-classes version rolls back on its accuracy drop once labels arrive; without labels every gate is
/// inconclusive and the rollout still completes (an inconclusive quality gate never holds a step).
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class QualityGateTests(PlatformFixture platform, ITestOutputHelper output)
{
    [Fact]
    public async Task AnAccuracyGateRollsTheSwappedVersionBackWithTheMeasuredDropInTheAliasHistory()
    {
        var clock = Stopwatch.StartNew();
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var name = await QualityTests.ServeIrisWithSwappedVersionAsync(admin);

        var id = await RolloutTests.StartAsync(admin, name, new
        {
            version = 2, steps = new[] { 50, 60, 70 }, stepInterval = "12s", minRequests = 1, maxErrorRate = 0.5, maxP99Ms = 60000, deadline = "3m",
            gates = new { accuracyDropMax = 0.02 },
        });
        // Traffic by name (production or the canary answers), each request's true species sent as its label right away: a label may
        // come before its record is filed, the join happens when the gate is judged.
        var rollout = await DriveAsync(admin, reader, operatorClient, name, id, label: true);

        Assert.Equal("failed", rollout.GetProperty("status").GetString());
        var reason = rollout.GetProperty("reason").GetString()!;
        Assert.Contains("quality gate accuracyDropMax failed: accuracy drop", reason);
        Assert.Contains("exceeds 0.02", reason);
        var last = rollout.GetProperty("analyses").EnumerateArray().Last();
        Assert.Equal("rollback", last.GetProperty("decision").GetString());
        var gate = Assert.Single(last.GetProperty("gates").EnumerateArray());
        Assert.Equal("accuracyDropMax", gate.GetProperty("gate").GetString());
        Assert.Equal("fail", gate.GetProperty("result").GetString());
        Assert.Equal(0.02, gate.GetProperty("threshold").GetDouble());
        // Setosa and versicolor swapped: about 2/3 of the canary's answers are wrong, production's are right.
        Assert.InRange(gate.GetProperty("value").GetDouble(), 0.5, 0.8);
        Assert.True(gate.GetProperty("count").GetInt64() >= 50, $"judged on {gate}");

        var (_, production) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/aliases/production");
        Assert.Equal(1, production.RootElement.GetProperty("version").GetInt32());
        var (_, history) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/aliases/canary/history");
        var removal = history.RootElement.EnumerateArray().Last();
        Assert.Equal(2, removal.GetProperty("fromVersion").GetInt32());
        Assert.Equal(JsonValueKind.Null, removal.GetProperty("toVersion").ValueKind);
        Assert.Contains($"rollout {id} failed: rolled back at step", removal.GetProperty("reason").GetString());
        Assert.Contains("quality gate accuracyDropMax failed: accuracy drop", removal.GetProperty("reason").GetString());
        output.WriteLine($"accuracy gate rollback: {clock.Elapsed.TotalSeconds:0.0} s ({reason})");
    }

    [Fact]
    public async Task GatesWithoutEnoughDataAreInconclusiveAndTheRolloutStillCompletes()
    {
        var clock = Stopwatch.StartNew();
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var name = await QualityTests.ServeIrisWithSwappedVersionAsync(admin);

        using (var bad = await admin.PostAsJsonAsync($"/v1/models/{name}/rollouts", new { version = 2, gates = new { accuracyDropMax = 1.5 } })
            .WaitAsync(PlatformFixture.RequestTimeout))
        {
            await RegistryTestSupport.AssertProblemAsync(bad, HttpStatusCode.BadRequest, "'gates.accuracyDropMax'");
        }
        using (var unknown = await admin.PostAsJsonAsync($"/v1/models/{name}/rollouts", new { version = 2, gates = new { foo = 1 } })
            .WaitAsync(PlatformFixture.RequestTimeout))
        {
            await RegistryTestSupport.AssertProblemAsync(unknown, HttpStatusCode.BadRequest, "'gates.foo' is not a gate");
        }
        var id = await RolloutTests.StartAsync(admin, name, new
        {
            version = 2, steps = new[] { 50, 100 }, stepInterval = "3s", minRequests = 1, maxErrorRate = 0.5, maxP99Ms = 60000, deadline = "2m",
            gates = new { accuracyDropMax = 0.02, driftPsiMax = 0.25, shadowAgreementMin = 0.95 },
        });
        var rollout = await DriveAsync(admin, reader, operatorClient, name, id, label: false);

        Assert.Equal("succeeded", rollout.GetProperty("status").GetString());
        var judged = rollout.GetProperty("analyses").EnumerateArray().Where(a => a.GetProperty("decision").GetString() != "wait").ToList();
        Assert.Equal(["advance", "promote"], judged.Select(a => a.GetProperty("decision").GetString()));
        foreach (var analysis in judged)
        {
            var gates = analysis.GetProperty("gates").EnumerateArray().ToList();
            Assert.Equal(["accuracyDropMax", "driftPsiMax", "shadowAgreementMin"], gates.Select(g => g.GetProperty("gate").GetString()));
            // No labels and no shadow: those two are inconclusive. Drift is judged once the version has logged its 500 reference requests
            // and 50 more (the traffic keeps the same distribution, so then it passes).
            Assert.All([gates[0], gates[2]], g => Assert.Equal("inconclusive", g.GetProperty("result").GetString()));
            Assert.All([gates[0], gates[2]], g => Assert.Equal(JsonValueKind.Null, g.GetProperty("value").ValueKind));
            Assert.Contains("labelled rows", gates[0].GetProperty("detail").GetString());
            Assert.Contains(gates[1].GetProperty("result").GetString(), new[] { "inconclusive", "pass" });
        }
        var (_, production) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/aliases/production");
        Assert.Equal(2, production.RootElement.GetProperty("version").GetInt32());
        output.WriteLine($"inconclusive gates, rollout completed: {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Sends rounds of 60 flowers by name (labelled with their species when asked) until the rollout is over; returns it.</summary>
    private static async Task<JsonElement> DriveAsync(HttpClient admin, HttpClient reader, HttpClient operatorClient, string name, string id, bool label)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        for (var round = 0; ; round++)
        {
            var (_, body) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/rollouts/{id}");
            var rollout = body.RootElement.Clone();
            if (rollout.GetProperty("status").GetString() != "running")
            {
                return rollout;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Rollout {id} still running: {rollout}");
            }
            var prefix = Invariant($"r{round}-");
            await SendAsync(reader, $"/v2/models/{name}/infer", 60, 6, i => prefix + Invariant($"{i}"), QualityTests.IrisFlower);
            if (label)
            {
                var lines = string.Join('\n', Enumerable.Range(0, 60).Select(i => Invariant($$"""{"id":"{{prefix}}{{i}}","label":"{{QualityTests.Species[i % 3]}}"}""")));
                using var response = await operatorClient.PostAsync($"/v1/models/{name}/feedback", new StringContent(lines, Encoding.UTF8, "application/x-ndjson"))
                    .WaitAsync(PlatformFixture.RequestTimeout);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }
    }
}
