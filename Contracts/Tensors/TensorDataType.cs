namespace MlPlatform.Contracts;

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

/// <summary>
/// The V2 datatype table: V2 names, element sizes, and the ONNX element type of each datatype, keyed by the ONNX
/// <c>TensorProto.DataType</c> codes (which ONNX Runtime's <c>TensorElementType</c> values are), so no ONNX Runtime is needed here.
/// </summary>
public static class TensorDataTypes
{
    private static readonly string[] Names =
        ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"];

    // ONNX TensorProto.DataType of each TensorDataType, index by index: BOOL=9, UINT8=2, UINT16=4, UINT32=12, UINT64=13, INT8=3,
    // INT16=5, INT32=6, INT64=7, FLOAT16=10, FLOAT=1, DOUBLE=11, STRING=8.
    private static readonly int[] OnnxElementTypes = [9, 2, 4, 12, 13, 3, 5, 6, 7, 10, 1, 11, 8];

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

    /// <summary>The ONNX element type code (<c>TensorProto.DataType</c>) of <paramref name="type"/>.</summary>
    public static int ToOnnxElementType(this TensorDataType type) =>
        (int)type < OnnxElementTypes.Length ? OnnxElementTypes[(int)type] : throw new ArgumentOutOfRangeException(nameof(type));

    /// <summary>The V2 datatype of an ONNX element type code, or false when V2 has none (bfloat16, complex…).</summary>
    public static bool TryFromOnnxElementType(int elementType, out TensorDataType type)
    {
        var index = Array.IndexOf(OnnxElementTypes, elementType);
        type = index < 0 ? default : (TensorDataType)index;
        return index >= 0;
    }
}
