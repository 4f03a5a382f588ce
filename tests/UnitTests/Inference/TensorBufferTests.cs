using MlPlatform.Inference.Tensors;

namespace MlPlatform.UnitTests.Inference;

public sealed class TensorBufferTests
{
    [Fact]
    public void ConcatenatedRowsSplitBackIntoTheOriginals()
    {
        using var a = TensorBuffer.FromValues<float>("x", TensorDataType.FP32, [1, 2], [1, 2]);
        using var b = TensorBuffer.FromValues<float>("x", TensorDataType.FP32, [2, 2], [3, 4, 5, 6]);

        using var stacked = TensorBuffer.Concatenate("x", [a, b]);
        using var first = stacked.SliceRows(0, 1);
        using var rest = stacked.SliceRows(1, 2);

        Assert.Equal([3L, 2L], stacked.Shape);
        Assert.Equal(a.AsSpan<float>().ToArray(), first.AsSpan<float>().ToArray());
        Assert.Equal(b.AsSpan<float>().ToArray(), rest.AsSpan<float>().ToArray());
        Assert.Equal([2L, 2L], rest.Shape);
    }

    [Fact]
    public void BytesRowsStackAndSplitByElementBoundaries()
    {
        using var a = TensorBuffer.FromStrings("t", [1, 2], ["a", "bcd"]);
        using var b = TensorBuffer.FromStrings("t", [1, 2], ["", "éé"]);

        using var stacked = TensorBuffer.Concatenate("t", [a, b]);
        using var second = stacked.SliceRows(1, 1);

        Assert.Equal(["a", "bcd", "", "éé"], stacked.ToStrings());
        Assert.Equal(["", "éé"], second.ToStrings());
    }

    [Fact]
    public void PartsWithDifferentNonBatchDimensionsDoNotStack()
    {
        using var a = TensorBuffer.FromValues<float>("x", TensorDataType.FP32, [1, 2], [1, 2]);
        using var b = TensorBuffer.FromValues<float>("x", TensorDataType.FP32, [1, 3], [1, 2, 3]);

        Assert.Throws<ArgumentException>(() => TensorBuffer.Concatenate("x", [a, b]));
    }
}
