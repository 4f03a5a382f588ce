using Microsoft.ML.OnnxRuntime.Tensors;

namespace MlPlatform.Inference.Tensors;

/// <summary>Conversions between <see cref="TensorDataType"/> (the table lives in Contracts) and ONNX Runtime element types.</summary>
public static class OrtDataTypes
{
    /// <summary>The ONNX Runtime element type of <paramref name="type"/> (its values are the ONNX element type codes).</summary>
    public static TensorElementType ToOrt(this TensorDataType type) => (TensorElementType)type.ToOnnxElementType();

    /// <summary>The V2 datatype of an ONNX Runtime element type, or false when V2 has none (bfloat16, complex…).</summary>
    public static bool TryFromOrt(TensorElementType elementType, out TensorDataType type) =>
        TensorDataTypes.TryFromOnnxElementType((int)elementType, out type);
}
