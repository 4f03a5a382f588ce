using System.Buffers;
using System.Text;
using System.Text.Json;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.UnitTests.Inference;

public sealed class InferResponseWriterTests
{
    [Fact]
    public void JsonResponseCarriesVersionAsStringAndFlatData()
    {
        using var output = TensorBuffer.FromValues<float>("scores", TensorDataType.FP32, [2, 2], [1f, 0.5f, -3f, 1e-7f]);
        var buffer = new ArrayBufferWriter<byte>();

        var jsonLength = InferResponseWriter.Write(buffer, "iris", "3", "req-9", [output], [false]);

        Assert.Equal(buffer.WrittenCount, jsonLength);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        var root = doc.RootElement;
        Assert.Equal("3", root.GetProperty("model_version").GetString());
        Assert.Equal("req-9", root.GetProperty("id").GetString());
        var tensor = root.GetProperty("outputs")[0];
        Assert.Equal("FP32", tensor.GetProperty("datatype").GetString());
        Assert.Equal([2, 2], tensor.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([1f, 0.5f, -3f, 1e-7f], tensor.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()));
    }

    [Fact]
    public void BinaryOutputsFollowTheJsonHeaderAndRoundTrip()
    {
        using var ints = TensorBuffer.FromValues<long>("ints", TensorDataType.Int64, [1, 3], [1, -2, long.MaxValue]);
        using var text = TensorBuffer.FromStrings("text", [2], ["a", "ünï"]);
        using var half = TensorBuffer.FromValues<Half>("half", TensorDataType.FP16, [2], [(Half)0.5, (Half)(-2)]);
        var buffer = new ArrayBufferWriter<byte>();

        var jsonLength = InferResponseWriter.Write(buffer, "types", "1", null, [ints, text, half], [true, false, true]);

        Assert.Equal(jsonLength + ints.ByteLength + half.ByteLength, buffer.WrittenCount);
        using var response = InferClientCodec.ReadResponse(buffer.WrittenSpan, jsonLength);
        Assert.Equal("1", response.ModelVersion);
        Assert.Null(response.Id);
        Assert.Equal([1L, -2, long.MaxValue], response["ints"].AsSpan<long>().ToArray());
        Assert.Equal(["a", "ünï"], response["text"].ToStrings());
        Assert.Equal([(Half)0.5, (Half)(-2)], response["half"].AsSpan<Half>().ToArray());
    }

    [Fact]
    public void BoolAndFp16AreWrittenAsJsonValues()
    {
        using var flags = TensorBuffer.FromValues<byte>("flags", TensorDataType.Bool, [2], [1, 0]);
        using var half = TensorBuffer.FromValues<Half>("half", TensorDataType.FP16, [1], [(Half)1.5]);
        var buffer = new ArrayBufferWriter<byte>();

        InferResponseWriter.Write(buffer, "m", "1", null, [flags, half], [false, false]);

        var json = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.Contains("\"data\":[true,false]", json);
        Assert.Contains("\"data\":[1.5]", json);
    }
}
