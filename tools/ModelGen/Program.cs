using Microsoft.ML;
using Microsoft.ML.Data;

// Trains the repository's demo models with ML.NET on generated data and exports them as ONNX.
// Usage: dotnet run --project tools/ModelGen -- <output folder>
var outputDir = Path.GetFullPath(args.Length > 0 ? args[0] : "models");
Directory.CreateDirectory(outputDir);
var ml = new MLContext(seed: 7);

ExportIris(ml, outputDir);
ExportHousePrice(ml, outputDir);
return 0;

// Multiclass: 4 flower measurements -> one of 3 species. Data drawn around the means of Fisher's iris species.
static void ExportIris(MLContext ml, string outputDir)
{
    var random = new Random(11);
    (string Species, float[] Mean, float[] Std)[] species =
    [
        ("setosa", [5.01f, 3.42f, 1.46f, 0.24f], [0.35f, 0.38f, 0.17f, 0.11f]),
        ("versicolor", [5.94f, 2.77f, 4.26f, 1.33f], [0.52f, 0.31f, 0.47f, 0.20f]),
        ("virginica", [6.59f, 2.97f, 5.55f, 2.03f], [0.64f, 0.32f, 0.55f, 0.27f]),
    ];
    var rows = new List<IrisRow>();
    for (var i = 0; i < 200; i++)
    {
        foreach (var (name, mean, std) in species)
        {
            rows.Add(new IrisRow { Species = name, Input = mean.Select((m, d) => m + std[d] * Gaussian(random)).ToArray() });
        }
    }
    var data = ml.Data.LoadFromEnumerable(rows);
    var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 3);
    var (train, test) = (split.TrainSet, split.TestSet);

    // The label is mapped to a key outside the exported pipeline, so the ONNX graph takes only the features.
    var labelMap = ml.Transforms.Conversion.MapValueToKey("Label", nameof(IrisRow.Species)).Fit(train);
    var model = ml.Transforms.NormalizeMinMax("input")
        .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(labelColumnName: "Label", featureColumnName: "input"))
        .Fit(labelMap.Transform(train));

    var metrics = ml.MulticlassClassification.Evaluate(model.Transform(labelMap.Transform(test)));
    Console.WriteLine($"iris: test macro accuracy {metrics.MacroAccuracy:F3}, log-loss {metrics.LogLoss:F3}");

    var featuresOnly = ml.Data.LoadFromEnumerable(rows.Select(r => new FeatureRow4 { Input = r.Input }));
    Export(ml, model, featuresOnly, Path.Combine(outputDir, "iris.onnx"), ["PredictedLabel", "Score"]);
}

// Regression: 3 house features -> price (thousands). Linear ground truth plus noise.
static void ExportHousePrice(MLContext ml, string outputDir)
{
    var random = new Random(5);
    var rows = Enumerable.Range(0, 1000).Select(_ =>
    {
        var area = 40f + 160f * random.NextSingle();      // m²
        var rooms = 1f + MathF.Floor(6f * random.NextSingle());
        var age = 60f * random.NextSingle();              // years
        var price = 50f + 2.1f * area + 12f * rooms - 0.8f * age + 10f * Gaussian(random);
        return new HouseRow { Input = [area, rooms, age], Price = price };
    }).ToList();
    var data = ml.Data.LoadFromEnumerable(rows);
    var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 3);
    var (train, test) = (split.TrainSet, split.TestSet);

    var model = ml.Transforms.NormalizeMeanVariance("input")
        .Append(ml.Regression.Trainers.Sdca(labelColumnName: nameof(HouseRow.Price), featureColumnName: "input", maximumNumberOfIterations: 200))
        .Fit(train);
    var metrics = ml.Regression.Evaluate(model.Transform(test), labelColumnName: nameof(HouseRow.Price));
    Console.WriteLine($"house-price: test R² {metrics.RSquared:F3}, RMSE {metrics.RootMeanSquaredError:F2}");

    var featuresOnly = ml.Data.LoadFromEnumerable(rows.Select(r => new FeatureRow3 { Input = r.Input }));
    Export(ml, model, featuresOnly, Path.Combine(outputDir, "house-price.onnx"), ["Score"]);
}

static void Export(MLContext ml, ITransformer model, IDataView featuresOnly, string path, string[] outputColumns)
{
    using (var stream = File.Create(path))
    {
        ml.Model.ConvertToOnnx(model, featuresOnly, stream, outputColumns);
    }
    Console.WriteLine($"wrote {path} ({new FileInfo(path).Length} bytes)");
}

static float Gaussian(Random random)
{
    // Box-Muller
    var u1 = 1.0 - random.NextDouble();
    var u2 = random.NextDouble();
    return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
}

internal sealed class IrisRow
{
    public string Species { get; set; } = "";

    [ColumnName("input"), VectorType(4)]
    public float[] Input { get; set; } = [];
}

internal sealed class FeatureRow4
{
    [ColumnName("input"), VectorType(4)]
    public float[] Input { get; set; } = [];
}

internal sealed class HouseRow
{
    [ColumnName("input"), VectorType(3)]
    public float[] Input { get; set; } = [];

    public float Price { get; set; }
}

internal sealed class FeatureRow3
{
    [ColumnName("input"), VectorType(3)]
    public float[] Input { get; set; } = [];
}
