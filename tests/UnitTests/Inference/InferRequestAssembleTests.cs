using System.Runtime.InteropServices;
using System.Text;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using static MlPlatform.UnitTests.Inference.TestModels;

namespace MlPlatform.UnitTests.Inference;

/// <summary>
/// <see cref="InferRequestReader.Assemble"/>: a request another front end decoded (gRPC) gets exactly the checks and messages a V2 JSON
/// body gets, because both run the same code.
/// </summary>
public sealed class InferRequestAssembleTests
{
    private static InferRequest Assemble(string name, string datatype, long[] shape, float[] values, IReadOnlyList<RequestedOutput>? outputs = null) =>
        InferRequestReader.Assemble("id-1", [new InputHeader(name, datatype, shape)],
            (_, n, type, s) => InferRequestReader.ReadRaw(MemoryMarshal.AsBytes(values.AsSpan()), n, type, s, "raw_input_contents[0]"),
            outputs ?? [], binaryDataOutput: true, LinearSignature, InferRequestLimits.None);

    private static string JsonError(string json)
    {
        var error = Assert.Throws<InferenceProtocolException>(() => InferRequestReader.Read(Encoding.UTF8.GetBytes(json), null, LinearSignature, InferRequestLimits.None));
        return error.Message;
    }

    [Fact]
    public void AValidRequestKeepsItsIdInputsAndFlags()
    {
        using var request = Assemble("input", "FP32", [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);

        Assert.Equal("id-1", request.Id);
        Assert.True(request.BinaryDataOutput);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8], request.Inputs[0].AsSpan<float>().ToArray());
    }

    [Theory]
    [InlineData("input", "FP32", new long[] { 1, 3 }, """{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}""")]
    [InlineData("other", "FP32", new long[] { 1, 4 }, """{"inputs":[{"name":"other","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""")]
    [InlineData("input", "FP64", new long[] { 1, 4 }, """{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,3,4]}]}""")]
    [InlineData("input", "FLOAT", new long[] { 1, 4 }, """{"inputs":[{"name":"input","shape":[1,4],"datatype":"FLOAT","data":[1,2,3,4]}]}""")]
    public void ARequestThatDoesNotFitTheSignatureGetsTheJsonBodysMessage(string name, string datatype, long[] shape, string json)
    {
        var values = new float[shape.Aggregate(1L, (a, b) => a * b)];

        var error = Assert.Throws<InferenceProtocolException>(() => Assemble(name, datatype, shape, values));

        Assert.Equal(JsonError(json), error.Message);
    }

    [Fact]
    public void AnUnknownRequestedOutputAndNegativeDimensionsAreRefusedAsForJson()
    {
        var output = Assert.Throws<InferenceProtocolException>(() => Assemble("input", "FP32", [1, 4], [1, 2, 3, 4], [new RequestedOutput("nope", null)]));
        Assert.Equal(JsonError("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"nope"}]}"""), output.Message);

        var negative = Assert.Throws<InferenceProtocolException>(() => Assemble("input", "FP32", [1, -4], []));
        Assert.Equal(JsonError("""{"inputs":[{"name":"input","shape":[1,-4],"datatype":"FP32","data":[1,2,3,4]}]}"""), negative.Message);
    }

    [Fact]
    public void RawContentsOfTheWrongSizeNameTheirField()
    {
        var error = Assert.Throws<InferenceProtocolException>(() => Assemble("input", "FP32", [2, 4], [1, 2, 3]));

        Assert.Equal("Input 'input': raw_input_contents[0] is 12 but shape [2,4] of FP32 needs 32 bytes.", error.Message);
    }

    [Fact]
    public void NoInputsIsRefusedAsForJson()
    {
        var error = Assert.Throws<InferenceProtocolException>(() => InferRequestReader.Assemble(null, [], (_, _, _, _) => throw new InvalidOperationException(),
            [], false, LinearSignature, InferRequestLimits.None));

        Assert.Equal(JsonError("""{"inputs":[]}"""), error.Message);
    }
}
