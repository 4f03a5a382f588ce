using System.Text.Json;
using MlPlatform.ModelRegistry.Quality;
using Xunit;

namespace MlPlatform.UnitTests.Quality;

public sealed class QualityCalculatorTests
{
    private static readonly QualitySettings Iris = new(QualitySettings.Classification, "Score.output", ["setosa", "versicolor", "virginica"]);

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static PayloadRecord Record(string id, string datatype, long[] shape, string data, string outcome = PayloadOutcomes.Success) =>
        new(id, "iris", 1, PayloadRoutes.Production, DateTimeOffset.UnixEpoch, 1, outcome, 200, null, null,
            [new PayloadTensor("Score.output", datatype, shape, Json(data))], false);

    [Fact]
    public void ClassificationTakesTheArgmaxAndMatchesClassNamesOrIndexes()
    {
        PayloadRecord[] records =
        [
            Record("a", "FP32", [1, 3], "[0.9,0.05,0.05]"),
            Record("b", "FP32", [1, 3], "[0.1,0.2,0.7]"),
            Record("c", "FP32", [1, 3], "[0.1,0.8,0.1]"),
            Record("d", "FP32", [1, 3], "[0.1,0.8,0.1]"),
            Record("e", "FP32", [1, 3], "[0.1,0.8,0.1]", PayloadOutcomes.ServerError),
        ];
        var labels = new Dictionary<string, JsonElement> { ["a"] = Json("\"setosa\""), ["b"] = Json("2"), ["c"] = Json("\"virginica\""), ["e"] = Json("1") };
        var figures = QualityCalculator.Compute(Iris, records, labels);
        Assert.Equal(4, figures.Logged);
        Assert.Equal(3, figures.Labelled);
        Assert.Equal(0.75, figures.Coverage);
        Assert.Equal(2.0 / 3, figures.Accuracy!.Value, 9);
        Assert.Null(figures.Mae);
    }

    [Fact]
    public void ALabelArrayJudgesEveryRowOfABatchedRequest()
    {
        var records = new[] { Record("a", "FP32", [2, 3], "[0.9,0.05,0.05, 0.1,0.1,0.8]") };
        var figures = QualityCalculator.Compute(Iris, records, new Dictionary<string, JsonElement> { ["a"] = Json("""["setosa","setosa"]""") });
        Assert.Equal(0.5, figures.Accuracy);
    }

    [Fact]
    public void ALabelTensorIsComparedByValue()
    {
        var settings = new QualitySettings(QualitySettings.Classification, "Score.output", null);
        var records = new[] { Record("a", "UINT32", [1, 1], "[3]"), Record("b", "UINT32", [1, 1], "[1]") };
        var figures = QualityCalculator.Compute(settings, records, new Dictionary<string, JsonElement> { ["a"] = Json("3"), ["b"] = Json("\"2\"") });
        Assert.Equal(0.5, figures.Accuracy);
    }

    [Fact]
    public void RegressionGivesMaeAndRmse()
    {
        var settings = new QualitySettings(QualitySettings.Regression, "Score.output", null);
        var records = new[] { Record("a", "FP32", [1, 1], "[10]"), Record("b", "FP32", [1, 1], "[20]") };
        var figures = QualityCalculator.Compute(settings, records, new Dictionary<string, JsonElement> { ["a"] = Json("12"), ["b"] = Json("16") });
        Assert.Equal(3, figures.Mae);
        Assert.Equal(Math.Sqrt(10), figures.Rmse!.Value, 9);
        Assert.Null(figures.Accuracy);
    }

    [Fact]
    public void HugeLabelsAndPredictionsNeverGiveANonFiniteFigure()
    {
        var settings = new QualitySettings(QualitySettings.Regression, "Score.output", null);
        var records = new[] { Record("a", "FP64", [1, 1], "[2]"), Record("b", "FP64", [1, 1], "[-1.5e308]"), Record("c", "FP64", [1, 1], "[4]") };

        // The audit's label: the squared error (1e600) overflowed and the report answered 500.
        var huge = QualityCalculator.Compute(settings, records[..1], new Dictionary<string, JsonElement> { ["a"] = Json("1e300") });
        Assert.Equal(1e300, huge.Mae!.Value, 1e288);
        Assert.Equal(1e300, huge.Rmse!.Value, 1e288);
        Assert.Null(huge.Note);

        // Errors whose mean is beyond a double (a prediction of -1.5e308 against a label of 1.5e308): null with the reason, never infinity.
        var beyond = QualityCalculator.Compute(settings, records, new Dictionary<string, JsonElement>
            { ["b"] = Json("1.5e308"), ["c"] = Json("1e400") });
        Assert.Equal(2, beyond.Labelled);
        Assert.Null(beyond.Mae);
        Assert.Null(beyond.Rmse);
        Assert.Contains("MAE and RMSE are beyond a double's range", beyond.Note);
        Assert.Contains("1 labelled row(s) left out", beyond.Note);
        Assert.All(new[] { huge, beyond }, f => JsonSerializer.Serialize(f));
    }

    [Fact]
    public void NothingLoggedGivesNullFigures()
    {
        var figures = QualityCalculator.Compute(Iris, [], new Dictionary<string, JsonElement>());
        Assert.Equal(new QualityFigures(0, 0, null, null, null, null), figures);
    }
}
