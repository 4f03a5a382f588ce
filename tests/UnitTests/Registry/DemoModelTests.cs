using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MlPlatform.UnitTests.Registry;

/// <summary>The committed demo models do what models/README.md says they do.</summary>
public sealed class DemoModelTests
{
    [Fact]
    public void IrisClassifiesTypicalFlowersOfEachSpecies()
    {
        using var session = new InferenceSession(RepositoryFiles.Path("models", "iris.onnx"));
        var input = new DenseTensor<float>(new float[] { 5.0f, 3.4f, 1.5f, 0.2f, 5.9f, 2.8f, 4.3f, 1.3f, 6.7f, 3.0f, 5.7f, 2.2f }, [3, 4]);

        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);

        var labels = results.Single(r => r.Name == "PredictedLabel.output").AsEnumerable<uint>().ToArray();
        Assert.Equal([1u, 2u, 3u], labels);
        var scores = results.Single(r => r.Name == "Score.output").AsEnumerable<float>().ToArray();
        Assert.Equal(9, scores.Length);
        Assert.All(scores.Chunk(3), row => Assert.Equal(1.0, row.Sum(), 3));
    }

    [Fact]
    public void HousePriceGrowsWithArea()
    {
        using var session = new InferenceSession(RepositoryFiles.Path("models", "house-price.onnx"));
        var input = new DenseTensor<float>(new float[] { 60f, 3f, 10f, 150f, 3f, 10f }, [2, 3]);

        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);

        var prices = results.Single().AsEnumerable<float>().ToArray();
        // Ground truth: 50 + 2.1·area + 12·rooms − 0.8·age.
        Assert.InRange(prices[0], 50 + 2.1 * 60 + 36 - 8 - 15, 50 + 2.1 * 60 + 36 - 8 + 15);
        Assert.InRange(prices[1] - prices[0], 2.1 * 90 - 20, 2.1 * 90 + 20);
    }

    [Fact]
    public void TabularMlpOutputsAProbabilityRowPerInputRow()
    {
        using var session = new InferenceSession(RepositoryFiles.Path("models", "tabular-mlp.onnx"));
        var input = new DenseTensor<float>(Enumerable.Range(0, 16).Select(i => i / 10f).ToArray(), [2, 8]);

        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);

        var probabilities = results.Single(r => r.Name == "probabilities").AsTensor<float>();
        Assert.Equal([2, 3], probabilities.Dimensions.ToArray());
        Assert.All(probabilities.ToArray().Chunk(3), row => Assert.Equal(1.0, row.Sum(), 4));
    }
}
