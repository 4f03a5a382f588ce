using System.Globalization;
using System.Text.Json;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>
/// Input drift from the payload log. A feature is each position of a <c>[-1, d]</c> input (each column; for a larger tensor, the
/// mean of each channel, axis 1). The reference fixes, per feature, <see cref="Bins"/> equal-frequency bins; the live window's share in
/// each bin against the reference's gives the PSI, Σ (live − ref) · ln(live ÷ ref), with empty bins floored at <see cref="Floor"/>.
/// Common reading: below 0.1 stable, 0.1 to 0.2 moderate shift, above 0.2 a shift worth acting on.
/// </summary>
public static class DriftCalculator
{
    public const int Bins = 10;
    public const double Floor = 1e-4;

    /// <summary>Per-feature PSI, largest first; empty when either side has no feature values.</summary>
    public static List<FeatureDrift> Compute(IReadOnlyList<PayloadRecord> reference, IReadOnlyList<PayloadRecord> live)
    {
        var referenceValues = Features(reference);
        var liveValues = Features(live);
        var result = new List<FeatureDrift>();
        foreach (var (feature, expected) in referenceValues)
        {
            if (!liveValues.TryGetValue(feature, out var actual) || expected.Count == 0 || actual.Count == 0)
            {
                continue;
            }
            result.Add(new FeatureDrift(feature, Psi(expected, actual)));
        }
        result.Sort((a, b) => b.Psi.CompareTo(a.Psi));
        return result;
    }

    /// <summary>PSI of <paramref name="actual"/> against <paramref name="expected"/> over equal-frequency bins of <paramref name="expected"/>.</summary>
    public static double Psi(List<double> expected, List<double> actual)
    {
        var sorted = expected.Order().ToArray();
        // Inner edges at the reference's deciles; repeated edges (a constant feature) collapse into fewer bins.
        var edges = Enumerable.Range(1, Bins - 1).Select(i => sorted[(int)((long)i * sorted.Length / Bins)]).Distinct().ToArray();
        var e = Histogram(sorted, edges);
        var a = Histogram(actual, edges);
        double psi = 0;
        for (var i = 0; i < e.Length; i++)
        {
            var pe = Math.Max(Floor, e[i] / sorted.Length);
            var pa = Math.Max(Floor, a[i] / actual.Count);
            psi += (pa - pe) * Math.Log(pa / pe);
        }
        return psi;
    }

    private static double[] Histogram(IEnumerable<double> values, double[] edges)
    {
        var counts = new double[edges.Length + 1];
        foreach (var value in values)
        {
            var index = Array.BinarySearch(edges, value);
            // A value equal to an edge belongs to the bin above it; otherwise the insertion point is the bin.
            counts[index >= 0 ? index + 1 : ~index]++;
        }
        return counts;
    }

    /// <summary>Feature values of the successful records' first input, by feature name (<c>input[3]</c>).</summary>
    public static Dictionary<string, List<double>> Features(IReadOnlyList<PayloadRecord> records)
    {
        var features = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (record.Outcome != PayloadOutcomes.Success || record.Inputs is not [var input, ..] || input.Data.ValueKind != JsonValueKind.Array
                || !input.Datatype.StartsWith("FP", StringComparison.Ordinal) && !input.Datatype.StartsWith("INT", StringComparison.Ordinal)
                    && !input.Datatype.StartsWith("UINT", StringComparison.Ordinal)
                || input.Shape.Length < 2 || input.Shape[0] < 1)
            {
                continue;
            }
            var values = input.Data.EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var rows = (int)input.Shape[0];
            var channels = (int)input.Shape[1];
            if (rows == 0 || channels == 0 || values.Length % (rows * channels) != 0)
            {
                continue;
            }
            var perChannel = values.Length / (rows * channels);
            for (var row = 0; row < rows; row++)
            {
                for (var channel = 0; channel < channels; channel++)
                {
                    double sum = 0;
                    var start = (row * channels + channel) * perChannel;
                    for (var k = 0; k < perChannel; k++)
                    {
                        sum += values[start + k];
                    }
                    var name = string.Create(CultureInfo.InvariantCulture, $"{input.Name}[{channel}]");
                    if (!features.TryGetValue(name, out var list))
                    {
                        features[name] = list = [];
                    }
                    list.Add(sum / perChannel);
                }
            }
        }
        return features;
    }
}
