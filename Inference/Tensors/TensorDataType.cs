using Microsoft.ML.OnnxRuntime.Tensors;

namespace MlPlatform.Inference.Tensors;

/// <summary>The Open Inference Protocol (V2) tensor datatypes the platform serves.</summary>
public enum TensorDataType : byte
{
    /// <summary>Boolean, one byte per element (0 or 1).</summary>
    Bool,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64,
    /// <summary>Signed 8-bit integer.</summary>
    Int8,
    /// <summary>Signed 16-bit integer.</summary>
    Int16,
    /// <summary>Signed 32-bit integer.</summary>
    Int32,
    /// <summary>Signed 64-bit integer.</summary>
    Int64,
    /// <summary>IEEE 754 half precision.</summary>
    FP16,
    /// <summary>IEEE 754 single precision.</summary>
    FP32,
    /// <summary>IEEE 754 double precision.</summary>
    FP64,
    /// <summary>Byte strings; stored as 4-byte little-endian length plus bytes per element, as the binary tensor extension defines.</summary>
    Bytes,
}

/// <summary>Conversions between V2 datatype names, <see cref="TensorDataType"/> and ONNX Runtime element types.</summary>
public static class TensorDataTypes
{
    private static readonly string[] Names =
        ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"];

    /// <summary>The V2 name of <paramref name="type"/> (<c>FP32</c>, <c>BYTES</c>…).</summary>
    public static string ToV2Name(this TensorDataType type) => Names[(int)type];

    /// <summary>Parses a V2 datatype name (case-sensitive, as the protocol spells it).</summary>
    public static bool TryParse(ReadOnlySpan<char> name, out TensorDataType type)
    {
        for (var i = 0; i < Names.Length; i++)
        {
            if (name.SequenceEqual(Names[i]))
            {
                type = (TensorDataType)i;
                return true;
            }
        }
        type = default;
        return false;
    }

    /// <summary>Parses a V2 datatype name given as UTF-8.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Name, out TensorDataType type)
    {
        Span<char> chars = stackalloc char[8];
        if (utf8Name.Length > chars.Length)
        {
            type = default;
            return false;
        }
        for (var i = 0; i < utf8Name.Length; i++)
        {
            chars[i] = (char)utf8Name[i];
        }
        return TryParse(chars[..utf8Name.Length], out type);
    }

    /// <summary>Parses a V2 datatype name.</summary>
    /// <exception cref="ArgumentException">The name is not a V2 datatype.</exception>
    public static TensorDataType Parse(string name) =>
        TryParse(name, out var type) ? type : throw new ArgumentException($"'{name}' is not a V2 datatype.", nameof(name));

    /// <summary>Bytes per element; 0 for <see cref="TensorDataType.Bytes"/>, whose elements vary in length.</summary>
    public static int ElementSize(this TensorDataType type) => type switch
    {
        TensorDataType.Bool or TensorDataType.UInt8 or TensorDataType.Int8 => 1,
        TensorDataType.UInt16 or TensorDataType.Int16 or TensorDataType.FP16 => 2,
        TensorDataType.UInt32 or TensorDataType.Int32 or TensorDataType.FP32 => 4,
        TensorDataType.UInt64 or TensorDataType.Int64 or TensorDataType.FP64 => 8,
        _ => 0,
    };

    /// <summary>The ONNX Runtime element type of <paramref name="type"/>.</summary>
    public static TensorElementType ToOrt(this TensorDataType type) => type switch
    {
        TensorDataType.Bool => TensorElementType.Bool,
        TensorDataType.UInt8 => TensorElementType.UInt8,
        TensorDataType.UInt16 => TensorElementType.UInt16,
        TensorDataType.UInt32 => TensorElementType.UInt32,
        TensorDataType.UInt64 => TensorElementType.UInt64,
        TensorDataType.Int8 => TensorElementType.Int8,
        TensorDataType.Int16 => TensorElementType.Int16,
        TensorDataType.Int32 => TensorElementType.Int32,
        TensorDataType.Int64 => TensorElementType.Int64,
        TensorDataType.FP16 => TensorElementType.Float16,
        TensorDataType.FP32 => TensorElementType.Float,
        TensorDataType.FP64 => TensorElementType.Double,
        TensorDataType.Bytes => TensorElementType.String,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>The V2 datatype of an ONNX Runtime element type, or false when V2 has none (bfloat16, complex…).</summary>
    public static bool TryFromOrt(TensorElementType elementType, out TensorDataType type)
    {
        (var ok, type) = elementType switch
        {
            TensorElementType.Bool => (true, TensorDataType.Bool),
            TensorElementType.UInt8 => (true, TensorDataType.UInt8),
            TensorElementType.UInt16 => (true, TensorDataType.UInt16),
            TensorElementType.UInt32 => (true, TensorDataType.UInt32),
            TensorElementType.UInt64 => (true, TensorDataType.UInt64),
            TensorElementType.Int8 => (true, TensorDataType.Int8),
            TensorElementType.Int16 => (true, TensorDataType.Int16),
            TensorElementType.Int32 => (true, TensorDataType.Int32),
            TensorElementType.Int64 => (true, TensorDataType.Int64),
            TensorElementType.Float16 => (true, TensorDataType.FP16),
            TensorElementType.Float => (true, TensorDataType.FP32),
            TensorElementType.Double => (true, TensorDataType.FP64),
            TensorElementType.String => (true, TensorDataType.Bytes),
            _ => (false, default(TensorDataType)),
        };
        return ok;
    }
}
