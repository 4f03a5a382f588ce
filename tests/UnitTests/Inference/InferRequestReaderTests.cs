using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using static MlPlatform.UnitTests.Inference.TestModels;

namespace MlPlatform.UnitTests.Inference;

public sealed class InferRequestReaderTests
{
    [Fact]
    public void FlatDataIsReadRowMajorIntoThePooledBuffer()
    {
        using var request = Read("""{"id":"a","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4,5,6,7,8.5]}]}""", LinearSignature);

        Assert.Equal("a", request.Id);
        var input = Assert.Single(request.Inputs);
        Assert.Equal([2L, 4L], input.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8.5f], input.AsSpan<float>().ToArray());
    }

    [Fact]
    public void NestedDataEqualsFlatData()
    {
        using var nested = Read("""{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[1,2,3,4],[5,6,7,8]]}]}""", LinearSignature);
        using var flat = Read("""{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}""", LinearSignature);

        Assert.Equal(flat.Inputs[0].AsSpan<float>().ToArray(), nested.Inputs[0].AsSpan<float>().ToArray());
    }

    [Fact]
    public void DataBeforeShapeAndDatatypeIsReadOnceTheyAreKnown()
    {
        using var request = Read("""{"inputs":[{"data":[1,2,3,4],"name":"input","datatype":"FP32","shape":[1,4]}]}""", LinearSignature);

        Assert.Equal([1f, 2, 3, 4], request.Inputs[0].AsSpan<float>().ToArray());
    }

    [Fact]
    public void EveryIntegerAndBoolDatatypeIsReadIntoItsWidth()
    {
        using var request = Read("""
            {"inputs":[
              {"name":"a","shape":[2],"datatype":"INT8","data":[-128,127]},
              {"name":"b","shape":[2],"datatype":"UINT16","data":[0,65535]},
              {"name":"c","shape":[1],"datatype":"INT64","data":[9007199254740993]},
              {"name":"d","shape":[2],"datatype":"BOOL","data":[true,false]},
              {"name":"e","shape":[1],"datatype":"FP16","data":[1.5]},
              {"name":"f","shape":[1],"datatype":"FP64","data":[0.1]},
              {"name":"g","shape":[1],"datatype":"UINT64","data":[18446744073709551615]}]}
            """);

        Assert.Equal([(sbyte)-128, (sbyte)127], request.Inputs[0].AsSpan<sbyte>().ToArray());
        Assert.Equal([(ushort)0, ushort.MaxValue], request.Inputs[1].AsSpan<ushort>().ToArray());
        Assert.Equal(9007199254740993L, request.Inputs[2].AsSpan<long>()[0]);
        Assert.Equal([(byte)1, (byte)0], request.Inputs[3].Span.ToArray());
        Assert.Equal((Half)1.5, request.Inputs[4].AsSpan<Half>()[0]);
        Assert.Equal(0.1, request.Inputs[5].AsSpan<double>()[0]);
        Assert.Equal(ulong.MaxValue, request.Inputs[6].AsSpan<ulong>()[0]);
    }

    [Fact]
    public void BytesElementsAreStoredLengthPrefixed()
    {
        using var request = Read("""{"inputs":[{"name":"text","shape":[2,1],"datatype":"BYTES","data":[["héllo"],["\u00e9\n"]]}]}""");

        Assert.Equal(["héllo", "é\n"], request.Inputs[0].ToStrings());
        Assert.Equal(6, BinaryPrimitives.ReadInt32LittleEndian(request.Inputs[0].Span));
    }

    [Fact]
    public void BinaryAndJsonTensorsMixInOneRequest()
    {
        var header = """{"inputs":[{"name":"a","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}},{"name":"b","shape":[1],"datatype":"INT32","data":[7]},{"name":"c","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":11}}],"parameters":{"binary_data_output":true}}"""u8.ToArray();
        var body = new List<byte>(header);
        body.AddRange(BitConverter.GetBytes(1.25f));
        body.AddRange(BitConverter.GetBytes(-2f));
        body.AddRange(BitConverter.GetBytes(3));
        body.AddRange("abc"u8.ToArray());
        body.AddRange(BitConverter.GetBytes(0));

        using var request = InferRequestReader.Read(body.ToArray(), header.Length, null, InferRequestLimits.None);

        Assert.True(request.BinaryDataOutput);
        Assert.Equal([1.25f, -2f], request.Inputs[0].AsSpan<float>().ToArray());
        Assert.Equal(7, request.Inputs[1].AsSpan<int>()[0]);
        Assert.Equal(["abc", ""], request.Inputs[2].ToStrings());
    }

    [Fact]
    public void EncodedRequestsRoundTripInJsonAndBinary()
    {
        using var floats = TensorBuffer.FromValues<float>("input", TensorDataType.FP32, [1, 4], [0.1f, -2.5f, 3e-8f, float.MaxValue]);
        foreach (var binary in new[] { false, true })
        {
            var (body, jsonLength) = Encode([floats], binary);

            using var request = InferRequestReader.Read(body, binary ? jsonLength : null, LinearSignature, InferRequestLimits.None);

            Assert.Equal(floats.AsSpan<float>().ToArray(), request.Inputs[0].AsSpan<float>().ToArray());
        }
    }

    [Fact]
    public void RequestedOutputsAndTheirBinaryFlagsAreKept()
    {
        using var request = Read("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"scores","parameters":{"binary_data":true}}]}""", LinearSignature);

        Assert.Equal(new RequestedOutput("scores", true), Assert.Single(request.Outputs));
        Assert.True(request.WantsBinary("scores"));
    }

    [Theory]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3]}]}""", "Input 'input': shape [1,4] needs 4 elements but 'data' has 3.")]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4,5]}]}""", "Input 'input': shape [1,4] needs 4 elements but 'data' has more.")]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}""", "Input 'input' has shape [1,3] but the model expects [-1,4] (-1 = any size).")]
    [InlineData("""{"inputs":[{"name":"input","shape":[4],"datatype":"FP32","data":[1,2,3,4]}]}""", "Input 'input' has shape [4] but the model expects [-1,4] (-1 = any size).")]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"INT64","data":[1,2,3,4]}]}""", "Input 'input' has datatype INT64 but the model expects FP32.")]
    [InlineData("""{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""", "Unknown input 'x'; the model expects: input (FP32 [-1,4]).")]
    [InlineData("""{"inputs":[]}""", "The request has no 'inputs'.")]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,"x",4]}]}""", "Input 'input': element 2 is not a valid FP32 value.")]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"nope"}]}""", "Unknown output 'nope'; the model has outputs: scores.")]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32"}]}""", "Input 'input' has neither 'data' nor 'parameters.binary_data_size'.")]
    [InlineData("""{"inputs":[{"name":"input","shape":[1,4],"datatype":"FLOAT","data":[1,2,3,4]}]}""", "Input 'input' has datatype FLOAT but the model expects FP32.")]
    public void InvalidRequestsAreRejectedWithAMessageNamingTheInput(string json, string message)
    {
        var error = Rejects(json, LinearSignature);

        Assert.Equal(400, error.StatusCode);
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("[2,2]", "FP32", "[[1,2,3],[4]]", "Input 'a': 'data' is ragged: an array at depth 2 has 3 items but shape [2,2] needs 2 there.")]
    [InlineData("[3,1]", "BYTES", """[["a"],["b","c"]]""", "Input 'a': 'data' is ragged: an array at depth 2 has 2 items but shape [3,1] needs 1 there.")]
    [InlineData("[2,2]", "FP32", "[[[1,2]],[[3,4]]]", "Input 'a': 'data' is nested deeper than shape [2,2].")]
    [InlineData("[2,2]", "INT32", "[[1,2],3,4]", "Input 'a': 'data' is ragged: the array at depth 1 mixes values and arrays.")]
    [InlineData("[2,2]", "INT32", "[1,2,[3,4]]", "Input 'a': 'data' is ragged: the array at depth 1 mixes values and arrays.")]
    [InlineData("[2,2]", "FP32", "[[1,2],[],3,4]", "Input 'a': 'data' is ragged: an array at depth 2 has 0 items but shape [2,2] needs 2 there.")]
    [InlineData("[1,2,1]", "FP32", "[[[1],2]]", "Input 'a': 'data' is ragged: an array at depth 2 has 1 items but shape [1,2,1] needs 2 there.")]
    [InlineData("[2,2,1]", "INT64", "[[1,2],[[3],[4]]]", "Input 'a': 'data' is ragged: it has values at depth 2 and an array at depth 3.")]
    [InlineData("[2,2,1]", "FP64", "[[[1],[2]],[3,4]]", "Input 'a': 'data' is ragged: an array at depth 2 has 0 items but shape [2,2,1] needs 2 there.")]
    [InlineData("[2,1]", "FP64", "[[],[1]]", "Input 'a': 'data' is ragged: an array at depth 2 has 0 items but shape [2,1] needs 1 there.")]
    [InlineData("[2,2,2]", "FP32", "[[1,2,3,4],[5,6,7]]", "Input 'a': 'data' is ragged: an array at depth 2 has 3 items but shape [2,2,2] needs 4 there.")]
    [InlineData("[3]", "BOOL", "true", "Input 'a': shape [3] needs 3 elements but 'data' has 1.")]
    [InlineData("[0]", "FP32", "1", "Input 'a': shape [0] needs 0 elements but 'data' has 1.")]
    public void NestedDataThatDoesNotFollowTheShapeIsABadRequestSayingWhere(string shape, string datatype, string data, string message)
    {
        var error = Rejects($$"""{"inputs":[{"name":"a","shape":{{shape}},"datatype":"{{datatype}}","data":{{data}}}]}""");

        Assert.Equal(400, error.StatusCode);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void NestingDeeperThanTheJsonReaderAllowsIsMalformedJson()
    {
        var data = new string('[', 100) + "1" + new string(']', 100);

        var error = Rejects($$"""{"inputs":[{"name":"a","shape":[1],"datatype":"FP32","data":{{data}}}]}""");

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("Malformed JSON", error.Message);
        Assert.Contains("depth", error.Message);
    }

    [Theory]
    [InlineData("[2,2,2]", "[[[1,2],[3,4]],[[5,6],[7,8]]]")]
    [InlineData("[2,2,2]", "[[1,2,3,4],[5,6,7,8]]")]
    [InlineData("[2,2,2]", "[1,2,3,4,5,6,7,8]")]
    [InlineData("[1,1,1,1,1,1,1,8]", "[[[[[[[1,2,3,4,5,6,7,8]]]]]]]")]
    [InlineData("[1,1,1,1,1,1,2,4]", "[[[[[[[[1,2,3,4],[5,6,7,8]]]]]]]]")]
    public void NestedDataFollowingTheShapeOrFlattenedWithinItIsReadRowMajor(string shape, string data)
    {
        using var request = Read($$"""{"inputs":[{"name":"a","shape":{{shape}},"datatype":"FP32","data":{{data}}}]}""");

        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8], request.Inputs[0].AsSpan<float>().ToArray());
    }

    [Theory]
    [InlineData("[2,0]", "[[],[]]")]
    [InlineData("[0,3]", "[]")]
    [InlineData("[0]", "[]")]
    public void EmptyTensorsAcceptEmptyArraysFollowingTheShape(string shape, string data)
    {
        using var request = Read($$"""{"inputs":[{"name":"a","shape":{{shape}},"datatype":"BYTES","data":{{data}}}]}""");

        Assert.Equal(0, request.Inputs[0].ElementCount);
    }

    [Theory]
    // Invalid UTF-8 in an input name (0xFF 0xFE), and an escaped lone surrogate in the name, the datatype and the id: valid JSON
    // tokens whose strings cannot be decoded. They were answered 500 "Inference failed" and counted against the model.
    [InlineData(new byte[] { 0xFF, 0xFE }, "FP32", "r")]
    [InlineData(new byte[] { (byte)'a', (byte)'\\', (byte)'u', (byte)'d', (byte)'8', (byte)'0', (byte)'0' }, "FP32", "r")]
    [InlineData(new byte[] { (byte)'a' }, "FP\\ud800", "r")]
    [InlineData(new byte[] { (byte)'a' }, "FP32", "\\udc00")]
    public void AStringThatIsNotValidUnicodeIsMalformedJsonNotAServerFault(byte[] name, string datatype, string id)
    {
        byte[] body = [.. Encoding.UTF8.GetBytes("{\"id\":\"" + id + "\",\"inputs\":[{\"name\":\""), .. name,
            .. Encoding.UTF8.GetBytes("\",\"shape\":[1],\"datatype\":\"" + datatype + "\",\"data\":[1]}]}")];

        var error = Assert.Throws<InferenceProtocolException>(() => InferRequestReader.Read(body, null, null, new InferRequestLimits(1000)).Dispose());

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("Malformed JSON", error.Message);
    }

    [Fact]
    public void MalformedJsonIsABadRequest()
    {
        var error = Rejects("""{"inputs":[{"name":"input",""");

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("Malformed JSON", error.Message);
    }

    [Fact]
    public void IntegerOutOfRangeForItsDatatypeIsRejected()
    {
        var error = Rejects("""{"inputs":[{"name":"a","shape":[1],"datatype":"INT8","data":[300]}]}""");

        Assert.Equal("Input 'a': element 0 is not a valid INT8 value.", error.Message);
    }

    [Fact]
    public void TooManyElementsIsPayloadTooLarge()
    {
        var error = Rejects("""{"inputs":[{"name":"input","shape":[1000,4],"datatype":"FP32","data":[]}]}""", LinearSignature, maxElements: 100);

        Assert.Equal(413, error.StatusCode);
        Assert.Contains("limit is 100", error.Message);
    }

    [Fact]
    public void BinarySizeThatDoesNotFitTheShapeIsRejected()
    {
        var header = """{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":12}}]}"""u8.ToArray();
        var body = header.Concat(new byte[12]).ToArray();

        var error = Assert.Throws<InferenceProtocolException>(() => InferRequestReader.Read(body, header.Length, LinearSignature, InferRequestLimits.None));

        Assert.Equal("Input 'input': binary_data_size is 12 but shape [1,4] of FP32 needs 16 bytes.", error.Message);
    }

    [Fact]
    public void BinarySizeBeyondTheBodyIsRejected()
    {
        var header = """{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}"""u8.ToArray();
        var body = header.Concat(new byte[8]).ToArray();

        var error = Assert.Throws<InferenceProtocolException>(() => InferRequestReader.Read(body, header.Length, LinearSignature, InferRequestLimits.None));

        Assert.Equal("Input 'input': binary_data_size is 16 but only 8 binary bytes remain.", error.Message);
    }

    [Fact]
    public void HeaderLengthBeyondTheBodyIsRejected()
    {
        var error = Assert.Throws<InferenceProtocolException>(() => InferRequestReader.Read("{}"u8, 10, null, InferRequestLimits.None));

        Assert.Equal("Inference-Header-Content-Length is 10 but the body has 2 bytes.", error.Message);
    }

    [Fact]
    public void InputsThatDisagreeOnTheBatchDimensionAreRejected()
    {
        var signature = new ModelSignature(
            [new TensorSpec("a", "FP32", [-1, 1]), new TensorSpec("b", "FP32", [-1, 1])],
            [new TensorSpec("y", "FP32", [-1, 1])]);

        var error = Rejects("""{"inputs":[{"name":"a","shape":[1,1],"datatype":"FP32","data":[1]},{"name":"b","shape":[2,1],"datatype":"FP32","data":[1,2]}]}""", signature);

        Assert.Equal("Input 'b' has batch size 2 but another input has 1; all inputs must agree on the first dimension.", error.Message);
    }

    [Fact]
    public void MissingInputIsNamedWithItsExpectation()
    {
        var signature = new ModelSignature(
            [new TensorSpec("a", "FP32", [-1, 1]), new TensorSpec("b", "INT64", [-1, 2])],
            [new TensorSpec("y", "FP32", [-1, 1])]);

        var error = Rejects("""{"inputs":[{"name":"a","shape":[1,1],"datatype":"FP32","data":[1]}]}""", signature);

        Assert.Equal("Missing input 'b' (INT64 [-1,2]).", error.Message);
    }
}
