using System.Text.Json;
using MlPlatform.Inference.Quality;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>
/// Input drift from the payload log, with the features, bins and PSI of <see cref="InputProfiles"/> (the batch scorer profiles a job's
/// input with the same code). Only the first input of successful records, and numeric datatypes, are profiled.
/// </summary>
public static class DriftCalculator
{
    /// <summary>Per-feature PSI of <paramref name="live"/> against the reference records' own deciles, largest first.</summary>
    public static List<FeatureDrift> Compute(IReadOnlyList<PayloadRecord> reference, IReadOnlyList<PayloadRecord> live) =>
        Compute(Features(reference).Select(f => InputProfiles.Profile(f.Key, f.Value)), live);

    /// <summary>Per-feature PSI of <paramref name="live"/> against a stored reference profile, largest first; empty when nothing compares.</summary>
    public static List<FeatureDrift> Compute(IEnumerable<FeatureProfile> reference, IReadOnlyList<PayloadRecord> live)
    {
        var liveValues = Features(live);
        var result = new List<FeatureDrift>();
        foreach (var profile in reference)
        {
            if (profile.Edges.Length == 0 && profile.Shares.Length <= 1 || !liveValues.TryGetValue(profile.Feature, out var actual) || actual.Count == 0)
            {
                continue;
            }
            result.Add(new FeatureDrift(profile.Feature, InputProfiles.Psi(profile, actual)));
        }
        result.Sort((a, b) => b.Psi.CompareTo(a.Psi));
        return result;
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
            // As the model (and a batch reference's row parser) reads them: an FP32 input's 5.9 is 5.900000095367432.
            var values = input.Data.EnumerateArray().Select(v => InputProfiles.Canonical(input.Datatype, v.GetDouble())).ToArray();
            var rows = (int)input.Shape[0];
            if (values.Length % rows != 0)
            {
                continue;
            }
            var perRow = values.Length / rows;
            for (var row = 0; row < rows; row++)
            {
                InputProfiles.AddRow(features, input.Name, (int)input.Shape[1], values.AsSpan(row * perRow, perRow));
            }
        }
        return features;
    }
}
