using System.Globalization;
using System.Text.Json;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>
/// Judges logged predictions against labels: classification counts rows whose predicted class (the argmax of the output, or the output's
/// value for a label tensor) equals the label (a class index, a class name from the settings' labels, or the value); regression sums
/// absolute and squared errors without overflow (<see cref="ErrorMoments"/>). A label array holds one label per row of the request; a single label judges its first row.
/// </summary>
public static class QualityCalculator
{
    /// <summary>The figures of <paramref name="records"/> (successful ones count as logged) with the labels found for their ids.</summary>
    public static QualityFigures Compute(QualitySettings settings, IReadOnlyList<PayloadRecord> records, IReadOnlyDictionary<string, JsonElement> labels)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int logged = 0, labelled = 0;
        long rows = 0, correct = 0;
        var errors = new ErrorMoments();
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
                if (settings.Task == QualitySettings.Regression)
                {
                    errors.Add(predictions[row].Value, truths[row]);
                }
                else
                {
                    rows++;
                    correct += Matches(settings, predictions[row], truths[row]) ? 1 : 0;
                }
            }
        }
        var coverage = logged == 0 ? (double?)null : (double)labelled / logged;
        if (settings.Task == QualitySettings.Regression)
        {
            var (mae, rmse, note) = errors.Result();
            return new QualityFigures(logged, labelled, coverage, null, mae, rmse, note);
        }
        return new QualityFigures(logged, labelled, coverage, rows == 0 ? null : (double)correct / rows, null, null);
    }

    /// <summary>
    /// MAE and RMSE without overflow: each error is taken as half the difference (finite for any two finite numbers), MAE as a running
    /// mean and RMSE scaled by the largest error (as BLAS's nrm2 does), so neither sums past a double's range. Only a metric whose true
    /// value is beyond that range (errors near ±1.8e308) comes out null, with a note; a row whose prediction or label is not a finite
    /// number is left out and counted in the note.
    /// </summary>
    private struct ErrorMoments
    {
        private long _rows, _skipped;
        private double _meanHalf, _scale, _scaledSquares;

        public void Add(double prediction, JsonElement truth)
        {
            if (!double.IsFinite(prediction) || truth.ValueKind != JsonValueKind.Number || !truth.TryGetDouble(out var label) || !double.IsFinite(label))
            {
                _skipped++;
                return;
            }
            var half = Math.Abs(prediction * 0.5 - label * 0.5);
            _rows++;
            _meanHalf += (half - _meanHalf) / _rows;
            if (half > _scale)
            {
                _scaledSquares = 1 + _scaledSquares * (_scale / half) * (_scale / half);
                _scale = half;
            }
            else if (half > 0)
            {
                _scaledSquares += (half / _scale) * (half / _scale);
            }
        }

        public readonly (double? Mae, double? Rmse, string? Note) Result()
        {
            if (_rows == 0)
            {
                return (null, null, _skipped == 0 ? null : Skipped() + ".");
            }
            double? mae = 2 * _meanHalf, rmse = 2 * (_scale * Math.Sqrt(_scaledSquares / _rows));
            var notes = new List<string>();
            if (!double.IsFinite(rmse.Value))
            {
                notes.Add(double.IsFinite(mae.Value) ? "RMSE is beyond a double's range (errors near 1.8e308)" : "MAE and RMSE are beyond a double's range (errors near 1.8e308)");
                mae = double.IsFinite(mae.Value) ? mae : null;
                rmse = null;
            }
            if (_skipped > 0)
            {
                notes.Add(Skipped());
            }
            return (mae, rmse, notes.Count == 0 ? null : string.Join("; ", notes) + ".");
        }

        private readonly string Skipped() => string.Create(CultureInfo.InvariantCulture,
            $"{_skipped} labelled row(s) left out: the prediction or the label is not a finite number");
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
