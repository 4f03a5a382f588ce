using System.Text.Json;
using MlPlatform.ModelRegistry.Quality;
using Xunit;

namespace MlPlatform.UnitTests.Quality;

public sealed class DriftAndShadowTests
{
    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static PayloadRecord Request(string id, double[] features, string route = PayloadRoutes.Production, string? scores = null,
        double latency = 1, string outcome = PayloadOutcomes.Success) =>
        new(id, "iris", 1, route, DateTimeOffset.UnixEpoch, latency, outcome, 200, null,
            [new PayloadTensor("input", "FP32", [1, features.Length], Json(JsonSerializer.Serialize(features)))],
            scores is null ? null : [new PayloadTensor("Score.output", "FP32", [1, 3], Json(scores))], false);

    private static List<PayloadRecord> Spread(int from, int count, double shift) =>
        Enumerable.Range(from, count).Select(i => Request($"r{i}", [i * 0.618 % 1, i * 0.414 % 1 + shift])).ToList();

    [Fact]
    public void TheSameSpreadHasAlmostNoDriftAndAShiftedFeatureTopsTheList()
    {
        var reference = Spread(0, 500, 0);
        var same = DriftCalculator.Compute(reference, Spread(500, 300, 0));
        Assert.All(same, f => Assert.True(f.Psi < 0.05, $"{f.Feature}: {f.Psi}"));
        var shifted = DriftCalculator.Compute(reference, Spread(500, 300, 0.5));
        Assert.Equal("input[1]", shifted[0].Feature);
        Assert.True(shifted[0].Psi > 0.2);
        Assert.True(shifted[1].Psi < 0.05);
    }

    [Fact]
    public void IdenticalFp32TrafficOnABatchReferencesEdgesHasNoDrift()
    {
        // The audit's case: a batch job's rows are parsed into float[] and widened (5.9f is 5.900000095367432), while the payload log
        // holds the request's JSON (5.9). Every value here repeats, so the reference's deciles sit exactly on the values themselves.
        float[][] rows = [[5.0f, 3.4f, 1.5f, 0.2f], [5.9f, 2.8f, 4.3f, 1.3f], [6.6f, 3.0f, 5.6f, 2.1f]];
        var batch = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        foreach (var row in rows.SelectMany(r => Enumerable.Repeat(r, 30)))
        {
            MlPlatform.Inference.Quality.InputProfiles.AddRow(batch, "input", 4, row.Select(v => (double)v).ToArray());
        }
        var reference = batch.Select(f => MlPlatform.Inference.Quality.InputProfiles.Profile(f.Key, f.Value)).ToList();
        var live = rows.SelectMany((r, i) => Enumerable.Range(0, 30).Select(n =>
            Request($"r{i}-{n}", r.Select(v => double.Parse(v.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture)).ToArray())))
            .ToList();
        Assert.Equal("[5.9,2.8,4.3,1.3]", live[30].Inputs![0].Data.GetRawText());

        var drift = DriftCalculator.Compute(reference, live);

        Assert.Equal(4, drift.Count);
        Assert.All(drift, f => Assert.True(f.Psi < 1e-9, $"{f.Feature}: {f.Psi}"));
    }

    [Fact]
    public void ALargerTensorIsProfiledByTheMeanOfEachChannel()
    {
        var image = new PayloadRecord("x", "m", 1, PayloadRoutes.Production, DateTimeOffset.UnixEpoch, 1, PayloadOutcomes.Success, 200, null,
            [new PayloadTensor("image", "FP32", [1, 2, 2], Json("[1,3,10,20]"))], null, false);
        var features = DriftCalculator.Features([image]);
        Assert.Equal([2.0], features["image[0]"]);
        Assert.Equal([15.0], features["image[1]"]);
    }

    [Fact]
    public void ShadowRecordsArePairedByIdAndCompared()
    {
        var settings = new QualitySettings(QualitySettings.Classification, "Score.output", null);
        var production = new Dictionary<string, PayloadRecord>
        {
            ["a"] = Request("a", [1], scores: "[0.9,0.05,0.05]", latency: 2),
            ["b"] = Request("b", [1], scores: "[0.1,0.8,0.1]", latency: 4),
        };
        PayloadRecord[] shadow =
        [
            Request("a", [1], PayloadRoutes.Shadow, "[0.8,0.1,0.1]", latency: 3),
            Request("b", [1], PayloadRoutes.Shadow, "[0.7,0.2,0.1]", latency: 5),
            Request("c", [1], PayloadRoutes.Shadow, "[0.7,0.2,0.1]"),
            Request("d", [1], PayloadRoutes.Shadow, outcome: PayloadOutcomes.ServerError),
        ];
        var result = ShadowComparison.Compare(shadow, production, settings);
        Assert.Equal(2, result.Compared);
        Assert.Equal(0.5, result.Agreement);
        Assert.Equal(1, result.ShadowErrors);
        Assert.Equal(0.6, result.MaxAbsDiff!.Value, 6);
        Assert.Equal(3, result.Shadow.P50Ms);
        Assert.Equal(4, result.Production.P99Ms);
        Assert.Null(ShadowComparison.Compare(shadow, production, null).Agreement);
    }
}
