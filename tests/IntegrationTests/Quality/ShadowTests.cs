using System.Text.Json;
using MlPlatform.IntegrationTests.Online;
using static MlPlatform.IntegrationTests.Quality.QualityClient;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>Shadow traffic: a weighted share of production's requests copied to the shadow alias after answering, compared by id.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ShadowTests(PlatformFixture platform)
{
    [Fact]
    public async Task AShadowIdenticalToProductionAgreesFullyAndTheSwappedVersionAgreesOnAThird()
    {
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        // Nothing is sampled: only the requests copied to the shadow (and their copies) are logged.
        var name = await QualityTests.ServeIrisWithSwappedVersionAsync(admin, sampleRate: 0.0);

        await OnlineScorerClient.SetAliasAsync(admin, name, "shadow", 1, weight: 50);
        var sent = await SendAsync(reader, $"/v2/models/{name}/infer", 200, 4, i => $"same-{i}", QualityTests.IrisFlower);
        Assert.Equal(200, sent.Length);
        var identical = await ShadowReportAsync(reader, name, 1, r => r.GetProperty("compared").GetInt32() >= 50);
        Assert.InRange(identical.GetProperty("compared").GetInt32(), 50, 150);
        Assert.Equal(1.0, identical.GetProperty("agreement").GetDouble());
        Assert.Equal(0.0, identical.GetProperty("maxAbsDiff").GetDouble());
        Assert.Equal(0, identical.GetProperty("shadowErrors").GetInt32());
        Assert.Equal(1, identical.GetProperty("productionVersion").GetInt32());
        Assert.True(identical.GetProperty("shadowLatency").GetProperty("p99Ms").GetDouble() > 0);

        // Every request copied to the swapped version: clients still get production's answers.
        await OnlineScorerClient.SetAliasAsync(admin, name, "shadow", 2, weight: 100);
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            await SendAsync(reader, $"/v2/models/{name}/infer", 3, 1, i => $"probe-{Guid.NewGuid():N}", QualityTests.IrisFlower);
            var probe = await ShadowReportAsync(reader, name, 2, _ => true);
            return probe.GetProperty("compared").GetInt32() > 0;
        }, "the scorer copies traffic to version 2");
        var before = (await ShadowReportAsync(reader, name, 2, _ => true)).GetProperty("compared").GetInt32();
        await SendAsync(reader, $"/v2/models/{name}/infer", 90, 3, i => $"swap-{i}", QualityTests.IrisFlower);
        var swapped = await ShadowReportAsync(reader, name, 2, r => r.GetProperty("compared").GetInt32() >= before + 90);
        // Setosa and versicolor swapped, virginica kept: a third of evenly drawn flowers agree.
        Assert.InRange(swapped.GetProperty("agreement").GetDouble(), 0.25, 0.45);
        Assert.True(swapped.GetProperty("maxAbsDiff").GetDouble() > 0.5);
        // The copies are never judged as production's: version 1 keeps answering the clients.
        var quality = await QualityTests.GetQualityAsync(reader, name, 2);
        Assert.Equal(1, quality.GetProperty("baselineVersion").GetInt32());
    }

    private static async Task<JsonElement> ShadowReportAsync(HttpClient client, string name, int version, Func<JsonElement, bool> until)
    {
        JsonElement report = default;
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            using var response = await client.GetAsync($"/v1/models/{name}/versions/{version}/shadow?window=1h").WaitAsync(PlatformFixture.RequestTimeout);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"shadow: {(int)response.StatusCode} {text}");
            report = JsonDocument.Parse(text).RootElement.Clone();
            return until(report);
        }, $"the shadow report of {name} v{version} is complete");
        return report;
    }
}
