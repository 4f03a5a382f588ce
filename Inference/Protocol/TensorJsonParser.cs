using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.Inference.Protocol;

/// <summary>What a tensor object in a V2 body says about itself before its data is read.</summary>
internal struct TensorHeader
{
    public string? Name;
    public string? DatatypeText;
    public long[]? Shape;
    public long? BinaryDataSize;
    public bool? BinaryData;
    /// <summary>Offset of the <c>data</c> value in the JSON, or -1: the data is read once name, shape and datatype are known, in whatever order they came.</summary>
    public int DataStart;
}

/// <summary>Hand-written <see cref="Utf8JsonReader"/> code that reads V2 tensor objects straight into pooled buffers.</summary>
internal static class TensorJsonParser
{
    /// <summary>Most axes a tensor may have.</summary>
    public const int MaxRank = 16;

    public static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>Reads one tensor object (<c>{"name", "shape", "datatype", "parameters", "data"}</c>); the reader is on its StartObject.</summary>
    /// <param name="reader">Reads <paramref name="json"/> from <paramref name="readerBase"/>; replaced by one that resumes after a data array.</param>
    /// <param name="json">The whole JSON text.</param>
    /// <param name="readerBase">Where in <paramref name="json"/> the reader's first byte is.</param>
    /// <param name="kind">"input" or "output", for messages.</param>
    /// <param name="dataIsRead">
    /// Whether the caller reads the data later (<see cref="ReadData"/>, or <see cref="ValidateData"/> for a tensor sent in binary): only then
    /// is a data array passed over unvalidated; otherwise the reader validates it here.
    /// </param>
    public static TensorHeader ReadHeader(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, ref int readerBase, string kind, bool dataIsRead)
    {
        Expect(ref reader, JsonTokenType.StartObject, $"Each {kind} must be a JSON object.");
        var header = new TensorHeader { DataStart = -1 };
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                Next(ref reader);
                header.Name = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw Bad($"An {kind}'s 'name' must be a string.");
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                Next(ref reader);
                header.DatatypeText = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw Bad($"{Describe(kind, header.Name)}: 'datatype' must be a string.");
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                Next(ref reader);
                header.Shape = ReadShape(ref reader, kind, header.Name);
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                Next(ref reader);
                ReadTensorParameters(ref reader, ref header, kind);
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                if (header.DataStart >= 0)
                {
                    // A repeated key: the last one is the data, but the one passed over must still be JSON.
                    ValidateData(json, header.DataStart);
                }
                if (dataIsRead)
                {
                    header.DataStart = PassOverData(ref reader, json, ref readerBase);
                }
                else
                {
                    Next(ref reader);
                    header.DataStart = readerBase + (int)reader.TokenStartIndex;
                    reader.Skip();
                }
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }
        if (string.IsNullOrEmpty(header.Name))
        {
            throw Bad($"An {kind} has no 'name'.");
        }
        return header;
    }

    /// <summary>
    /// Moves the reader (on the <c>data</c> property name) past the value and returns where the value starts in <paramref name="json"/>.
    /// The header pass needs only that offset; the data is read once name, datatype and shape are known. Tokenising a large array
    /// here as well cost a tenth of the scorer's CPU on JSON requests, so an array is passed over by bracket matching and the reader
    /// resumes after it; the array is validated as JSON when it is read (<see cref="ReadData"/>) or by <see cref="ValidateData"/>.
    /// </summary>
    private static int PassOverData(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, ref int readerBase)
    {
        var afterName = reader.CurrentState;
        // Arrays nested deeper than the reader allows are left to the reader, which words that error.
        var nestingLeft = ReaderOptions.MaxDepth - reader.CurrentDepth - 1;
        Next(ref reader);
        var start = readerBase + (int)reader.TokenStartIndex;
        if (reader.TokenType != JsonTokenType.StartArray || FindArrayEnd(json, start, nestingLeft) is not (> 0 and var end))
        {
            reader.Skip();
            return start;
        }
        // A reader in the state "a value was just read here": the state after the property name, advanced over a stand-in value.
        var standIn = new Utf8JsonReader("0 "u8, isFinalBlock: false, afterName);
        standIn.Read();
        reader = new Utf8JsonReader(json[end..], isFinalBlock: true, standIn.CurrentState);
        readerBase = end;
        return start;
    }

    private static readonly SearchValues<byte> s_arrayStructure = SearchValues.Create("[]\""u8);
    private static readonly SearchValues<byte> s_stringEnd = SearchValues.Create("\"\\"u8);

    /// <summary>
    /// The offset just after the array opening at <paramref name="start"/> (brackets inside strings ignored), or -1 when it is not closed
    /// or nests more than <paramref name="maxNesting"/> arrays. Says nothing about whether the array is valid JSON.
    /// </summary>
    internal static int FindArrayEnd(ReadOnlySpan<byte> json, int start, int maxNesting)
    {
        var depth = 0;
        var i = start;
        while (i < json.Length)
        {
            var next = json[i..].IndexOfAny(s_arrayStructure);
            if (next < 0)
            {
                return -1;
            }
            i += next;
            if (json[i] == (byte)'[')
            {
                if (++depth > maxNesting)
                {
                    return -1;
                }
            }
            else if (json[i] == (byte)']')
            {
                if (--depth == 0)
                {
                    return i + 1;
                }
            }
            else
            {
                // A string: it ends at the next quote that is not escaped.
                while (true)
                {
                    if (++i >= json.Length)
                    {
                        return -1;
                    }
                    var end = json[i..].IndexOfAny(s_stringEnd);
                    if (end < 0)
                    {
                        return -1;
                    }
                    i += end;
                    if (json[i] == (byte)'"')
                    {
                        break;
                    }
                    i++;
                }
            }
            i++;
        }
        return -1;
    }

    /// <summary>Checks that the <c>data</c> value at <paramref name="dataStart"/> is valid JSON, for tensors whose data is not read.</summary>
    public static void ValidateData(ReadOnlySpan<byte> json, int dataStart)
    {
        var reader = new Utf8JsonReader(json[dataStart..], isFinalBlock: true, new JsonReaderState(ReaderOptions));
        Next(ref reader);
        reader.Skip();
    }

    /// <summary>
    /// The message of the first JSON error in <paramref name="json"/> as a reader over the whole text reports it (positions from its
    /// start), or null when it is valid JSON. For errors found by readers that start at a data value or resume after one.
    /// </summary>
    public static string? FirstJsonError(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            while (reader.Read())
            {
            }
            return null;
        }
        catch (JsonException ex)
        {
            return ex.Message;
        }
    }

    private static long[] ReadShape(ref Utf8JsonReader reader, string kind, string? name)
    {
        Expect(ref reader, JsonTokenType.StartArray, $"{Describe(kind, name)}: 'shape' must be an array of integers.");
        Span<long> dims = stackalloc long[MaxRank];
        var rank = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var dim) || dim < 0)
            {
                throw Bad($"{Describe(kind, name)}: 'shape' must hold non-negative integers.");
            }
            if (rank == dims.Length)
            {
                throw Bad($"{Describe(kind, name)}: 'shape' has more than {dims.Length} dimensions.");
            }
            dims[rank++] = dim;
        }
        return dims[..rank].ToArray();
    }

    private static void ReadTensorParameters(ref Utf8JsonReader reader, ref TensorHeader header, string kind)
    {
        Expect(ref reader, JsonTokenType.StartObject, $"{Describe(kind, header.Name)}: 'parameters' must be an object.");
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("binary_data_size"u8))
            {
                Next(ref reader);
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var size) || size < 0)
                {
                    throw Bad($"{Describe(kind, header.Name)}: 'binary_data_size' must be a non-negative integer.");
                }
                header.BinaryDataSize = size;
            }
            else if (reader.ValueTextEquals("binary_data"u8))
            {
                Next(ref reader);
                header.BinaryData = reader.TokenType switch
                {
                    JsonTokenType.True => true,
                    JsonTokenType.False => false,
                    _ => throw Bad($"{Describe(kind, header.Name)}: 'binary_data' must be true or false."),
                };
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }
    }

    /// <summary>
    /// Reads the elements of a <c>data</c> value into a new buffer of the given shape: a lone value, a flat row-major array, or arrays
    /// nested like the shape (the innermost level may hold the remaining axes flattened: <c>[[1,2,3,4],[5,6,7,8]]</c> for [2,2,2]).
    /// </summary>
    public static TensorBuffer ReadData(ReadOnlySpan<byte> json, int dataStart, string name, TensorDataType type, long[] shape, string kind)
    {
        var expected = TensorBuffer.CountElements(shape);
        var reader = new Utf8JsonReader(json[dataStart..], isFinalBlock: true, new JsonReaderState(ReaderOptions));
        Next(ref reader);
        if (type == TensorDataType.Bytes)
        {
            var strings = new StringSink();
            try
            {
                WalkData(ref reader, ref strings, shape, expected, name, kind);
                return strings.Writer.ToTensor(name, shape);
            }
            catch
            {
                strings.Writer.Dispose();
                throw;
            }
        }

        var buffer = TensorBuffer.Rent(name, type, shape);
        try
        {
            // Floats, the bulk of JSON tensors, take the single-pass scanner; anything it declines (including every error and any
            // structure that does not follow the shape) is re-read below, where the error is worded.
            if ((type == TensorDataType.FP32 && JsonNumberScanner.TryReadSingles(json[dataStart..], MemoryMarshal.Cast<byte, float>(buffer.Span), shape)) ||
                (type == TensorDataType.FP64 && JsonNumberScanner.TryReadDoubles(json[dataStart..], MemoryMarshal.Cast<byte, double>(buffer.Span), shape)))
            {
                return buffer;
            }
            var numbers = new NumberSink(buffer.Span, type);
            WalkData(ref reader, ref numbers, shape, expected, name, kind);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Where <see cref="WalkData"/> puts each element; a struct type argument, so every call is direct and inlinable.</summary>
    private interface IElementSink
    {
        /// <summary>Stores the reader's current value as element <paramref name="index"/>; false when it is not one (cold: the walker words the error).</summary>
        bool TryWrite(ref Utf8JsonReader reader, int index);

        /// <summary>What an element must be, for the error: "a valid INT32 value".</summary>
        string Expected { get; }
    }

    private readonly ref struct NumberSink(Span<byte> span, TensorDataType type) : IElementSink
    {
        private readonly Span<byte> _span = span;

        public string Expected => $"a valid {type.ToV2Name()} value";

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool TryWrite(ref Utf8JsonReader reader, int index) => TryWriteElement(ref reader, type, _span, index);
    }

    private struct StringSink() : IElementSink
    {
        public PooledByteWriter Writer = new(256);

        public readonly string Expected => "a string, as BYTES needs";

        public bool TryWrite(ref Utf8JsonReader reader, int index)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                return false;
            }
            var maxLength = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
            var target = Writer.GetSpan(4 + maxLength);
            var written = reader.CopyString(target[4..]);
            BinaryPrimitives.WriteInt32LittleEndian(target, written);
            Writer.Advance(4 + written);
            return true;
        }
    }

    /// <summary>
    /// Walks a <c>data</c> value (the reader on its first token), handing each element to <paramref name="sink"/> in row-major order,
    /// and checks its structure against the shape without allocating: the element count, and for nested arrays the rules of
    /// <see cref="CheckClosingArray"/>. Structure is checked only as arrays open and close, so a value costs what it did in a flat walk.
    /// </summary>
    private static void WalkData<TSink>(ref Utf8JsonReader reader, ref TSink sink, long[] shape, long expected, string name, string kind)
        where TSink : IElementSink, allows ref struct
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            if (expected != 1)
            {
                throw Bad($"{Describe(kind, name)}: shape {TensorSpec.FormatShape(shape)} needs {expected} elements but 'data' has 1.");
            }
            if (!sink.TryWrite(ref reader, 0))
            {
                throw InvalidElement(0, sink.Expected, name, kind);
            }
            return;
        }
        // Inline arrays rather than stackalloc: a method with localloc cannot be tiered up by on-stack replacement.
        var maxDepth = Math.Max(shape.Length, 1);
        var childArrays = new DepthCounts();
        var countAtOpen = new DepthCounts();
        var depth = 1;
        var valueDepth = 0;
        long count = 0;
        while (depth > 0)
        {
            switch (Next(ref reader))
            {
                case JsonTokenType.StartArray:
                    if (depth == maxDepth)
                    {
                        throw Bad($"{Describe(kind, name)}: 'data' is nested deeper than shape {TensorSpec.FormatShape(shape)}.");
                    }
                    if (valueDepth != 0 && depth >= valueDepth)
                    {
                        throw Bad($"{Describe(kind, name)}: 'data' is ragged: it has values at depth {valueDepth} and an array at depth {depth + 1}.");
                    }
                    childArrays[depth]++;
                    depth++;
                    childArrays[depth] = 0;
                    countAtOpen[depth] = count;
                    break;
                case JsonTokenType.EndArray:
                    if (CheckClosingArray(count - countAtOpen[depth], childArrays[depth], depth, ref valueDepth, shape) is { } problem)
                    {
                        throw Bad($"{Describe(kind, name)}: 'data' is ragged: {problem}.");
                    }
                    depth--;
                    break;
                default:
                    if (count >= expected)
                    {
                        throw Bad($"{Describe(kind, name)}: shape {TensorSpec.FormatShape(shape)} needs {expected} elements but 'data' has more.");
                    }
                    if (!sink.TryWrite(ref reader, (int)count))
                    {
                        throw InvalidElement(count, sink.Expected, name, kind);
                    }
                    count++;
                    break;
            }
        }
        if (count != expected)
        {
            throw Bad($"{Describe(kind, name)}: shape {TensorSpec.FormatShape(shape)} needs {expected} elements but 'data' has {count}.");
        }
    }

    /// <summary>
    /// Checks an array as it closes at <paramref name="depth"/> (1 = the outermost), given the <paramref name="values"/> it holds at
    /// any depth and its direct <paramref name="childArrays"/>; null when it fits the shape, else the problem. Values sit at one depth
    /// (<paramref name="valueDepth"/>, learnt from the first array with values to close; 0 before): an array there holds the product
    /// of the axes left as values (the last axes may come flattened); an array above it holds the shape's axis at its depth as arrays
    /// and nothing else; an empty array is fine where its part of the shape is empty. The outermost array's length shows in the total
    /// count, which the caller checks with its own message.
    /// </summary>
    internal static string? CheckClosingArray(long values, long childArrays, int depth, ref int valueDepth, ReadOnlySpan<long> shape)
    {
        if (valueDepth == 0 && values > 0)
        {
            if (childArrays > 0)
            {
                return $"the array at depth {depth} mixes values and arrays";
            }
            valueDepth = depth;
        }
        if (depth == valueDepth || (valueDepth == 0 && childArrays == 0))
        {
            var needed = AxesProduct(shape, depth - 1);
            return depth == 1 || values == needed || (valueDepth == 0 && needed == 0) ? null
                : $"an array at depth {depth} has {values} items but shape {TensorSpec.FormatShape(shape)} needs {needed} there";
        }
        if (depth > 1 && childArrays != shape[depth - 1])
        {
            return $"an array at depth {depth} has {childArrays} items but shape {TensorSpec.FormatShape(shape)} needs {shape[depth - 1]} there";
        }
        // Every child array has been checked, so values beyond what they hold sit beside them.
        return values == childArrays * AxesProduct(shape, depth) ? null : $"the array at depth {depth} mixes values and arrays";
    }

    private static long AxesProduct(ReadOnlySpan<long> shape, int from)
    {
        long product = 1;
        for (var axis = from; axis < shape.Length; axis++)
        {
            product *= shape[axis];
        }
        return product;
    }

    private static bool TryWriteElement(ref Utf8JsonReader reader, TensorDataType type, Span<byte> span, int i) =>
        type switch
        {
            // A number beyond the type's range parses as infinity, which JSON cannot mean: it is refused like any other bad element.
            TensorDataType.FP32 => reader.TokenType == JsonTokenType.Number && reader.TryGetSingle(out var single) && float.IsFinite(MemoryMarshal.Cast<byte, float>(span)[i] = single),
            TensorDataType.FP64 => reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var dbl) && double.IsFinite(MemoryMarshal.Cast<byte, double>(span)[i] = dbl),
            TensorDataType.FP16 => TryWriteHalf(ref reader, span, i),
            TensorDataType.Int64 => reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out MemoryMarshal.Cast<byte, long>(span)[i]),
            TensorDataType.Int32 => reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out MemoryMarshal.Cast<byte, int>(span)[i]),
            TensorDataType.Int16 => reader.TokenType == JsonTokenType.Number && reader.TryGetInt16(out MemoryMarshal.Cast<byte, short>(span)[i]),
            TensorDataType.Int8 => reader.TokenType == JsonTokenType.Number && reader.TryGetSByte(out MemoryMarshal.Cast<byte, sbyte>(span)[i]),
            TensorDataType.UInt64 => reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out MemoryMarshal.Cast<byte, ulong>(span)[i]),
            TensorDataType.UInt32 => reader.TokenType == JsonTokenType.Number && reader.TryGetUInt32(out MemoryMarshal.Cast<byte, uint>(span)[i]),
            TensorDataType.UInt16 => reader.TokenType == JsonTokenType.Number && reader.TryGetUInt16(out MemoryMarshal.Cast<byte, ushort>(span)[i]),
            TensorDataType.UInt8 => reader.TokenType == JsonTokenType.Number && reader.TryGetByte(out span[i]),
            TensorDataType.Bool => TryWriteBool(ref reader, span, i),
            _ => false,
        };

    private static InferenceProtocolException InvalidElement(long index, string expected, string name, string kind) =>
        Bad($"{Describe(kind, name)}: element {index} is not {expected}.");

    private static bool TryWriteHalf(ref Utf8JsonReader reader, Span<byte> span, int i)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var value))
        {
            return false;
        }
        MemoryMarshal.Cast<byte, Half>(span)[i] = (Half)value;
        return true;
    }

    private static bool TryWriteBool(ref Utf8JsonReader reader, Span<byte> span, int i)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                span[i] = 1;
                return true;
            case JsonTokenType.False:
                span[i] = 0;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Takes a tensor's bytes from the binary section, checking that they fit its datatype and shape.</summary>
    /// <param name="sizeName">What the client calls the size in messages: <c>binary_data_size</c> (REST) or the gRPC raw contents.</param>
    public static TensorBuffer ReadBinary(ReadOnlySpan<byte> bytes, string name, TensorDataType type, long[] shape, string kind,
        string sizeName = "binary_data_size")
    {
        var expected = TensorBuffer.CountElements(shape);
        if (type != TensorDataType.Bytes)
        {
            var needed = expected * type.ElementSize();
            if (bytes.Length != needed)
            {
                throw Bad($"{Describe(kind, name)}: {sizeName} is {bytes.Length} but shape {TensorSpec.FormatShape(shape)} of {type.ToV2Name()} needs {needed} bytes.");
            }
            var buffer = TensorBuffer.Rent(name, type, shape);
            bytes.CopyTo(buffer.Span);
            return buffer;
        }

        long count = 0;
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (bytes.Length - offset < 4)
            {
                throw Bad($"{Describe(kind, name)}: BYTES element {count} has a truncated 4-byte length.");
            }
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[offset..]);
            if (length < 0 || length > bytes.Length - offset - 4)
            {
                throw Bad($"{Describe(kind, name)}: BYTES element {count} claims {length} bytes, beyond {sizeName}.");
            }
            offset += 4 + length;
            count++;
        }
        if (count != expected)
        {
            throw Bad($"{Describe(kind, name)}: shape {TensorSpec.FormatShape(shape)} needs {expected} BYTES elements but the binary data holds {count}.");
        }
        var strings = TensorBuffer.RentBytes(name, shape, bytes.Length);
        bytes.CopyTo(strings.Span);
        return strings;
    }

    public static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw Bad("The JSON body ends too early.");
        }
        return reader.TokenType;
    }

    public static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string message)
    {
        if (reader.TokenType != type)
        {
            throw Bad(message);
        }
    }

    public static string Describe(string kind, string? name) => name is null ? $"An {kind}" : $"{char.ToUpperInvariant(kind[0])}{kind[1..]} '{name}'";

    public static InferenceProtocolException Bad(string message) => new(message);
}

/// <summary>A growable buffer over <see cref="ArrayPool{T}.Shared"/> arrays whose final array becomes a tensor's storage.</summary>
internal struct PooledByteWriter(int initialCapacity) : IDisposable
{
    private byte[]? _array = ArrayPool<byte>.Shared.Rent(initialCapacity);
    private int _length;

    public Span<byte> GetSpan(int sizeHint)
    {
        var array = _array!;
        if (array.Length - _length < sizeHint)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(checked(_length + sizeHint), array.Length * 2));
            array.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(array);
            _array = array = bigger;
        }
        return array.AsSpan(_length);
    }

    public void Advance(int count) => _length += count;

    public TensorBuffer ToTensor(string name, long[] shape)
    {
        var array = _array!;
        _array = null;
        return TensorBuffer.FromRented(name, TensorDataType.Bytes, shape, array, _length);
    }

    public void Dispose()
    {
        if (_array is not null)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = null;
        }
    }
}

/// <summary>A count per nesting depth of a tensor's <c>data</c> (at most <see cref="TensorJsonParser.MaxRank"/> axes, depths 0 to 16).</summary>
[System.Runtime.CompilerServices.InlineArray(TensorJsonParser.MaxRank + 1)]
internal struct DepthCounts
{
    private long _element;
}
