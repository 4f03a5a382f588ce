using System.Text.Json;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>Compares shadow records with the production records of the same request ids.</summary>
public static class ShadowComparison
{
    /// <summary>The figures of a shadow report; <paramref name="settings"/> (classification) enables the agreement rate.</summary>
    public static (int Compared, double? Agreement, double? MeanAbsDiff, double? MaxAbsDiff, int ShadowErrors, LatencySummary Shadow, LatencySummary Production)
        Compare(IReadOnlyList<PayloadRecord> shadow, IReadOnlyDictionary<string, PayloadRecord> production, QualitySettings? settings)
    {
        int compared = 0, agreed = 0, judged = 0, errors = 0;
        double sum = 0, max = 0;
        long elements = 0;
        var shadowLatency = new List<double>();
        var productionLatency = new List<double>();
        var classification = settings?.Task == QualitySettings.Classification;
        foreach (var record in shadow)
        {
            if (record.Outcome != PayloadOutcomes.Success)
            {
                errors++;
                continue;
            }
            if (!production.TryGetValue(record.Id, out var original) || original.Outcome != PayloadOutcomes.Success)
            {
                continue;
            }
            compared++;
            shadowLatency.Add(record.LatencyMs);
            productionLatency.Add(original.LatencyMs);
            if (classification && Output(record, settings!.Output) is { } mine && Output(original, settings.Output) is { } theirs)
            {
                var a = QualityCalculator.Predictions(settings, mine);
                var b = QualityCalculator.Predictions(settings, theirs);
                judged++;
                agreed += a.Count == b.Count && a.Zip(b).All(p => p.First.Text == p.Second.Text) ? 1 : 0;
            }
            foreach (var output in record.Outputs ?? [])
            {
                if (!output.Datatype.StartsWith("FP", StringComparison.Ordinal) || Output(original, output.Name) is not { } other
                    || output.Data.ValueKind != JsonValueKind.Array || other.Data.ValueKind != JsonValueKind.Array
                    || output.Data.GetArrayLength() != other.Data.GetArrayLength())
                {
                    continue;
                }
                foreach (var (x, y) in output.Data.EnumerateArray().Zip(other.Data.EnumerateArray()))
                {
                    var diff = Math.Abs(x.GetDouble() - y.GetDouble());
                    sum += diff;
                    max = Math.Max(max, diff);
                    elements++;
                }
            }
        }
        return (compared, judged == 0 ? null : (double)agreed / judged, elements == 0 ? null : sum / elements, elements == 0 ? null : max, errors,
            Summary(shadowLatency), Summary(productionLatency));
    }

    private static PayloadTensor? Output(PayloadRecord record, string name) => record.Outputs?.FirstOrDefault(o => o.Name == name);

    private static LatencySummary Summary(List<double> latencies)
    {
        if (latencies.Count == 0)
        {
            return new LatencySummary(null, null);
        }
        latencies.Sort();
        double At(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
        return new LatencySummary(At(0.5), At(0.99));
    }
}
