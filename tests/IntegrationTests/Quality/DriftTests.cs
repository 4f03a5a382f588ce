using System.Text.Json;
using MlPlatform.IntegrationTests.Online;
using static MlPlatform.IntegrationTests.Quality.QualityClient;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>Input drift: the live window's features against the version's first logged requests (Quality:DriftReferenceRecords, 500 by default).</summary>
[Collection(PlatformCollection.Name)]
public sealed class DriftTests(PlatformFixture platform)
{
    private const int Reference = 500;

    [Fact]
    public async Task ShiftedTrafficDriftsAboveAFifthAndUnshiftedStaysBelowATenth()
    {
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var shifted = await ServeIrisAsync(admin, "drift", new { enabled = true });
        var steady = await ServeIrisAsync(admin, "steady", new { enabled = true });

        await Task.WhenAll(
            SendAsync(reader, $"/v2/models/{shifted}/infer", Reference, 4, i => $"ref-{i}", i => Spread(i, 0f)),
            SendAsync(reader, $"/v2/models/{steady}/infer", Reference, 4, i => $"ref-{i}", i => Spread(i, 0f)));
        await ReadPayloadsAsync(operatorClient, shifted, 1, Reference);
        await ReadPayloadsAsync(operatorClient, steady, 1, Reference);
        // The reference is complete, but nothing after it was logged yet: no verdict.
        var nothingLive = await DriftAsync(reader, steady);
        Assert.Equal(Reference, nothingLive.GetProperty("referenceRecords").GetInt32());
        Assert.Equal(0, nothingLive.GetProperty("liveRecords").GetInt32());
        Assert.Equal(JsonValueKind.Null, nothingLive.GetProperty("maxPsi").ValueKind);

        // Petal length moves up by 3 cm on the first model; the second keeps drawing from the same spread.
        await Task.WhenAll(
            SendAsync(reader, $"/v2/models/{shifted}/infer", 300, 4, i => $"live-{i}", i => Spread(Reference + i, 3f)),
            SendAsync(reader, $"/v2/models/{steady}/infer", 300, 4, i => $"live-{i}", i => Spread(Reference + i, 0f)));
        await ReadPayloadsAsync(operatorClient, shifted, 1, Reference + 300);
        await ReadPayloadsAsync(operatorClient, steady, 1, Reference + 300);

        var drift = await DriftAsync(reader, shifted);
        Assert.Equal(300, drift.GetProperty("liveRecords").GetInt32());
        Assert.Equal("first-logged", drift.GetProperty("referenceSource").GetString());
        Assert.True(drift.GetProperty("maxPsi").GetDouble() > 0.2, drift.ToString());
        var top = drift.GetProperty("features")[0];
        Assert.Equal("input[2]", top.GetProperty("feature").GetString());

        var stable = await DriftAsync(reader, steady);
        Assert.Equal(300, stable.GetProperty("liveRecords").GetInt32());
        Assert.True(stable.GetProperty("maxPsi").GetDouble() < 0.1, stable.ToString());
    }

    /// <summary>Flower <paramref name="i"/> of an even spread over each feature's range (a low-discrepancy sequence), petal length moved by <paramref name="shift"/>.</summary>
    internal static float[] Spread(int i, float shift)
    {
        static float Frac(double x) => (float)(x - Math.Floor(x));
        return [4.5f + Frac(i * 0.6180339887) * 2f, 2.5f + Frac(i * 0.4142135623) * 1.2f, 1.2f + Frac(i * 0.7320508075) * 5f + shift,
            0.1f + Frac(i * 0.2360679774) * 2.3f];
    }

    internal static async Task<JsonElement> DriftAsync(HttpClient client, string name)
    {
        using var response = await client.GetAsync($"/v1/models/{name}/versions/1/drift?window=1h").WaitAsync(PlatformFixture.RequestTimeout);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"drift: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
