using System.Buffers;
using System.Text;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.UnitTests.Inference;

internal static class TestModels
{
    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "models", file);

    public static OnnxModel Load(string file) => OnnxModel.Load(PathOf(file), new OnnxSessionOptions());

    public static ModelSignature LinearSignature { get; } = new(
        [new TensorSpec("input", "FP32", [-1, 4])],
        [new TensorSpec("scores", "FP32", [-1, 3])]);

    public static InferRequest Read(string json, ModelSignature? signature = null, long maxElements = 1_000_000) =>
        InferRequestReader.Read(Encoding.UTF8.GetBytes(json), null, signature, new InferRequestLimits(maxElements));

    public static InferenceProtocolException Rejects(string json, ModelSignature? signature = null, long maxElements = 1_000_000) =>
        Assert.Throws<InferenceProtocolException>(() => Read(json, signature, maxElements).Dispose());

    public static (byte[] Body, int JsonLength) Encode(IReadOnlyList<TensorBuffer> inputs, bool binary, bool binaryOutputs = false, IReadOnlyList<string>? outputs = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var jsonLength = InferClientCodec.WriteRequest(buffer, "req-1", inputs, binary, outputs, binaryOutputs);
        return (buffer.WrittenSpan.ToArray(), jsonLength);
    }
}
