using System.Globalization;

namespace MlPlatform.Inference.Quality;

/// <summary>
/// The one definition of input drift's features, bins and PSI, shared by the registry (live windows from the payload log, references
/// from a version's first logged requests) and the batch scorer (references from a job's input). A feature is each position of a
/// <c>[-1, d]</c> input (each column; for a larger tensor, the mean of each channel, axis 1). The reference fixes, per feature,
/// <see cref="Bins"/> equal-frequency bins (its deciles); the PSI of a live window is Σ (live − ref) · ln(live ÷ ref) over the bins'
/// shares, empty bins floored at <see cref="Floor"/>. Common reading: below 0.1 stable, above 0.2 a shift.
/// </summary>
public static class InputProfiles
{
    public const int Bins = 10;
    public const double Floor = 1e-4;

    /// <summary>
    /// The value a feature is binned by, for an element of an input of <paramref name="datatype"/>: the element as the model receives
    /// it. A batch job's rows are parsed into the input's own type (an FP32 input's 5.9 becomes 5.900000095367432 widened), while the
    /// payload log holds the request's JSON text (5.9): read as a double it sits below that edge and falls a bin lower, so identical
    /// traffic would drift. Both sides bin the same value only when the live side rounds through the input's type too.
    /// </summary>
    public static double Canonical(string datatype, double value) => datatype switch
    {
        "FP32" => (float)value,
        "FP16" => (double)(Half)value,
        _ => value,
    };

    /// <summary>
    /// Adds one row of input <paramref name="inputName"/> to <paramref name="features"/>: <paramref name="values"/> is the row's
    /// elements, <paramref name="channels"/> long on axis 1, each channel's elements contiguous (row-major).
    /// </summary>
    public static void AddRow(Dictionary<string, List<double>> features, string inputName, int channels, ReadOnlySpan<double> values)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (channels <= 0 || values.Length == 0 || values.Length % channels != 0)
        {
            return;
        }
        var perChannel = values.Length / channels;
        for (var channel = 0; channel < channels; channel++)
        {
            double sum = 0;
            foreach (var value in values.Slice(channel * perChannel, perChannel))
            {
                sum += value;
            }
            var name = string.Create(CultureInfo.InvariantCulture, $"{inputName}[{channel}]");
            if (!features.TryGetValue(name, out var list))
            {
                features[name] = list = [];
            }
            list.Add(sum / perChannel);
        }
    }

    /// <summary>The reference histogram of <paramref name="values"/>: inner edges at its deciles (repeated edges collapse), shares per bin.</summary>
    public static FeatureProfile Profile(string feature, IReadOnlyCollection<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return new FeatureProfile(feature, [], [1]);
        }
        var edges = Enumerable.Range(1, Bins - 1).Select(i => sorted[(int)((long)i * sorted.Length / Bins)]).Distinct().ToArray();
        var counts = Histogram(sorted, edges);
        return new FeatureProfile(feature, edges, counts.Select(c => c / sorted.Length).ToArray());
    }

    /// <summary>PSI of <paramref name="live"/> against the reference histogram <paramref name="reference"/>.</summary>
    public static double Psi(FeatureProfile reference, IReadOnlyCollection<double> live)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(live);
        var counts = Histogram(live, reference.Edges);
        double psi = 0;
        for (var i = 0; i < counts.Length && i < reference.Shares.Length; i++)
        {
            var pe = Math.Max(Floor, reference.Shares[i]);
            var pa = Math.Max(Floor, counts[i] / live.Count);
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
}
