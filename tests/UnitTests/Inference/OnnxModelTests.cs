using MlPlatform.Inference.Tensors;
using static MlPlatform.UnitTests.Inference.TestModels;

namespace MlPlatform.UnitTests.Inference;

public sealed class OnnxModelTests
{
    [Fact]
    public void SignatureIsReadFromTheSessionWithDynamicAxesAsMinusOne()
    {
        using var model = Load("types.onnx");

        Assert.Equal(["ints:INT64:[-1,3]", "flags:BOOL:[-1,2]", "text:BYTES:[-1,1]", "half:FP16:[-1,2]"],
            model.Signature.Inputs.Select(i => $"{i.Name}:{i.Datatype}:{i.ShapeText}"));
        Assert.True(model.Signature.IsBatchable);
    }

    [Fact]
    public void EveryAwkwardDatatypeRunsThroughOrtValuesOverPooledMemory()
    {
        using var model = Load("types.onnx");
        using var ints = TensorBuffer.FromValues<long>("ints", TensorDataType.Int64, [2, 3], [1, 2, 3, -4, 5, long.MaxValue / 2]);
        using var flags = TensorBuffer.FromValues<byte>("flags", TensorDataType.Bool, [2, 2], [1, 0, 0, 1]);
        using var text = TensorBuffer.FromStrings("text", [2, 1], ["hello", "wörld"]);
        using var half = TensorBuffer.FromValues<Half>("half", TensorDataType.FP16, [2, 2], [(Half)0.5, (Half)1, (Half)(-2), (Half)65504]);

        var outputs = model.Run([ints, flags, text, half], model.OutputNames);
        try
        {
            Assert.Equal([2L, 4, 6, -8, 10, long.MaxValue - 1], outputs[0].AsSpan<long>().ToArray());
            Assert.Equal([(byte)0, 1, 1, 0], outputs[1].Span.ToArray());
            Assert.Equal(["hello", "wörld"], outputs[2].ToStrings());
            Assert.Equal(half.AsSpan<Half>().ToArray(), outputs[3].AsSpan<Half>().ToArray());
        }
        finally
        {
            foreach (var output in outputs)
            {
                output.Dispose();
            }
        }
    }

    [Fact]
    public void WarmUpSynthesisesInputsFromTheSignature()
    {
        using var model = Load("seqsum.onnx");

        var inputs = model.CreateWarmupInputs(new Dictionary<string, long[]> { ["tokens"] = [2, 7] });
        model.WarmUp(null);

        Assert.Equal([2L, 7L], Assert.Single(inputs).Shape);
        inputs[0].Dispose();
    }
}
