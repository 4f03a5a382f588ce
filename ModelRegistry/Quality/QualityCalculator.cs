using System.Globalization;
using System.Text.Json;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>
/// Judges logged predictions against labels: classification counts rows whose predicted class (the argmax of the output, or the output's
/// value for a label tensor) equals the label (a class index, a class name from the settings' labels, or the value); regression sums
/// absolute and squared errors. A label array holds one label per row of the request; a single label judges its first row.
/// </summary>
public static class QualityCalculator
{
    /// <summary>The figures of <paramref name="records"/> (successful ones count as logged) with the labels found for their ids.</summary>
    public static QualityFigures Compute(QualitySettings settings, IReadOnlyList<PayloadRecord> records, IReadOnlyDictionary<string, JsonElement> labels)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int logged = 0, labelled = 0;
        long rows = 0, correct = 0;
        double absolute = 0, squared = 0;
        foreach (var record in records)
        {
            if (record.Outcome != PayloadOutcomes.Success)
            {
                continue;
            }
            logged++;
            if (!labels.TryGetValue(record.Id, out var label) || record.Outputs?.FirstOrDefault(o => o.Name == settings.Output) is not { } output)
            {
                continue;
            }
            var predictions = Predictions(settings, output);
            var truths = label.ValueKind == JsonValueKind.Array ? label.EnumerateArray().ToList() : [label];
            var judged = Math.Min(predictions.Count, truths.Count);
            if (judged == 0)
            {
                continue;
            }
            labelled++;
            for (var row = 0; row < judged; row++)
            {
                rows++;
                if (settings.Task == QualitySettings.Regression)
                {
                    var error = predictions[row].Value - truths[row].GetDouble();
                    absolute += Math.Abs(error);
                    squared += error * error;
                }
                else if (Matches(settings, predictions[row], truths[row]))
                {
                    correct++;
                }
            }
        }
        var regression = settings.Task == QualitySettings.Regression;
        return new QualityFigures(logged, labelled, logged == 0 ? null : (double)labelled / logged,
            rows == 0 || regression ? null : (double)correct / rows,
            rows == 0 || !regression ? null : absolute / rows,
            rows == 0 || !regression ? null : Math.Sqrt(squared / rows));
    }

    /// <summary>One row's prediction: the argmax index (for a score tensor) or the value, with its text.</summary>
    public readonly record struct Prediction(int? Index, double Value, string Text);

    /// <summary>Per row of <paramref name="output"/>: the argmax of a floating-point classification output with more than one column, else the value.</summary>
    public static List<Prediction> Predictions(QualitySettings settings, PayloadTensor output)
    {
        var result = new List<Prediction>();
        var data = output.Data;
        if (data.ValueKind != JsonValueKind.Array)
        {
            return result;
        }
        var values = data.EnumerateArray().ToList();
        var rows = output.Shape.Length > 0 && output.Shape[0] > 0 ? (int)output.Shape[0] : 1;
        var width = rows == 0 ? 0 : values.Count / rows;
        var scores = settings.Task == QualitySettings.Classification && output.Datatype.StartsWith("FP", StringComparison.Ordinal) && width > 1;
        for (var row = 0; row < rows && width > 0; row++)
        {
            if (scores)
            {
                var best = 0;
                for (var j = 1; j < width; j++)
                {
                    if (values[row * width + j].GetDouble() > values[row * width + best].GetDouble())
                    {
                        best = j;
                    }
                }
                var name = settings.Labels is { } labels && best < labels.Count ? labels[best] : best.ToString(CultureInfo.InvariantCulture);
                result.Add(new Prediction(best, best, name));
            }
            else
            {
                var value = values[row * width];
                result.Add(value.ValueKind == JsonValueKind.String
                    ? new Prediction(null, double.NaN, value.GetString()!)
                    : new Prediction(null, value.GetDouble(), value.GetDouble().ToString(CultureInfo.InvariantCulture)));
            }
        }
        return result;
    }

    private static bool Matches(QualitySettings settings, Prediction prediction, JsonElement truth) => truth.ValueKind switch
    {
        JsonValueKind.Number => prediction.Index is { } index ? truth.GetDouble() == index : truth.GetDouble() == prediction.Value,
        JsonValueKind.String => truth.GetString() == prediction.Text
            || (prediction.Index is { } i && settings.Labels is null && truth.GetString() == i.ToString(CultureInfo.InvariantCulture)),
        _ => false,
    };
}
