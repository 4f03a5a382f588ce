using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.UnitTests.Registry;

public sealed class SignatureContractTests
{
    private static readonly ModelSignature Linear = new(
        [new TensorSpec("input", "FP32", [-1, 4])],
        [new TensorSpec("label", "INT64", [-1]), new TensorSpec("probabilities", "FP32", [-1, 3])]);

    [Fact]
    public void TheSameSignatureOrOneThatAcceptsMoreIsCompatible()
    {
        Assert.Empty(SignatureContract.Differences(Linear, Linear));
        var wider = Linear with
        {
            Outputs = [.. Linear.Outputs, new TensorSpec("extra", "FP32", [-1])],
        };
        Assert.Empty(SignatureContract.Differences(Linear, wider));
        var fixedToDynamic = new ModelSignature([new TensorSpec("x", "FP32", [1, 4])], []);
        Assert.Empty(SignatureContract.Differences(fixedToDynamic, new ModelSignature([new TensorSpec("x", "FP32", [-1, 4])], [])));
    }

    [Fact]
    public void ACnnAsANewVersionOfALinearModelListsEveryDifference()
    {
        var cnn = new ModelSignature([new TensorSpec("image", "FP32", [-1, 1, 28, 28])], [new TensorSpec("logits", "FP32", [-1, 10])]);

        Assert.Equal(
        [
            "input 'input' removed",
            "input 'image' (FP32 [-1,1,28,28]) added as required",
            "output 'label' removed",
            "output 'probabilities' removed",
        ], SignatureContract.Differences(Linear, cnn));
    }

    [Fact]
    public void ADatatypeAFixedDimensionOrAnOutputTypeThatChangesIsIncompatible()
    {
        var changed = new ModelSignature(
            [new TensorSpec("input", "FP64", [-1, 5])],
            [new TensorSpec("label", "FP32", [-1]), new TensorSpec("probabilities", "FP32", [-1, 3])]);

        Assert.Equal(
        [
            "input 'input' datatype changed from FP32 to FP64",
            "input 'input' shape changed from [-1,4] to [-1,5]",
            "output 'label' datatype changed from INT64 to FP32",
        ], SignatureContract.Differences(Linear, changed));
    }

    [Fact]
    public void ADynamicAxisThatBecomesFixedOrARankChangeIsIncompatible()
    {
        Assert.Equal(["input 'input' shape changed from [-1,4] to [8,4]"],
            SignatureContract.Differences(Linear, Linear with { Inputs = [new TensorSpec("input", "FP32", [8, 4])] }));
        Assert.Equal(["input 'input' shape changed from [-1,4] to [-1,2,2]"],
            SignatureContract.Differences(Linear, Linear with { Inputs = [new TensorSpec("input", "FP32", [-1, 2, 2])] }));
    }
}
