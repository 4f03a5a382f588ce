using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.OnlineScorer.Caching;

/// <summary>
/// The response cache's entry format: a tensor count, then per tensor its UTF-8 name (length-prefixed), datatype byte, rank,
/// dimensions (int64), byte length and element bytes (BYTES in the binary tensor extension's length-prefixed layout); all integers
/// little-endian. Entries come back from Redis, which anyone with access can write, so decoding trusts nothing.
/// </summary>
public static class CacheEntryCodec
{
    // count, then per tensor: name length, datatype, rank, byte length.
    private const int CountBytes = 4;
    private const int FixedTensorBytes = 4 + 1 + 4 + 4;

    /// <summary>The size of the entry <see cref="Encode"/> writes for <paramref name="outputs"/>.</summary>
    public static long GetEncodedLength(IReadOnlyList<TensorBuffer> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        long length = CountBytes;
        foreach (var output in outputs)
        {
            length += FixedTensorBytes + Encoding.UTF8.GetByteCount(output.Name) + 8L * output.Shape.Length + output.ByteLength;
        }
        return length;
    }

    /// <summary>The encoded entry, or null when it would exceed <paramref name="maxBytes"/> (such responses are not cached).</summary>
    public static byte[]? TryEncode(IReadOnlyList<TensorBuffer> outputs, int maxBytes)
    {
        var length = GetEncodedLength(outputs);
        if (length > maxBytes)
        {
            return null;
        }
        var entry = new byte[length];
        var writer = new FixedBufferWriter(entry);
        Encode(writer, outputs);
        return entry;
    }

    /// <summary>Writes the entry of <paramref name="outputs"/>.</summary>
    public static void Encode(IBufferWriter<byte> writer, IReadOnlyList<TensorBuffer> outputs)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(outputs);
        WriteInt32(writer, outputs.Count);
        foreach (var output in outputs)
        {
            var name = Encoding.UTF8.GetBytes(output.Name);
            WriteInt32(writer, name.Length);
            writer.Write(name);
            writer.Write([(byte)output.DataType]);
            WriteInt32(writer, output.Shape.Length);
            foreach (var dim in output.Shape)
            {
                BinaryPrimitives.WriteInt64LittleEndian(writer.GetSpan(8), dim);
                writer.Advance(8);
            }
            WriteInt32(writer, output.ByteLength);
            writer.Write(output.Span);
        }
    }

    /// <summary>
    /// Decodes an entry into pooled tensors (the caller disposes them). False for anything <see cref="Encode"/> cannot have written:
    /// truncated or trailing bytes, unknown datatype, negative or overflowing shapes, a byte length that does not match the shape,
    /// malformed BYTES elements. Nothing is allocated beyond what the entry's own length bounds.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out TensorBuffer[]? outputs)
    {
        outputs = null;
        var reader = new EntryReader(entry);
        if (!reader.TryReadInt32(out var count) || count < 0 || count > reader.Remaining / FixedTensorBytes)
        {
            return false;
        }
        var decoded = new TensorBuffer[count];
        var done = 0;
        try
        {
            for (; done < count; done++)
            {
                if (!TryDecodeTensor(ref reader, out var tensor))
                {
                    return false;
                }
                decoded[done] = tensor;
            }
            if (reader.Remaining != 0)
            {
                return false;
            }
            outputs = decoded;
            return true;
        }
        finally
        {
            if (outputs is null)
            {
                for (var i = 0; i < done; i++)
                {
                    decoded[i].Dispose();
                }
            }
        }
    }

    private static bool TryDecodeTensor(ref EntryReader reader, [NotNullWhen(true)] out TensorBuffer? tensor)
    {
        tensor = null;
        if (!reader.TryReadInt32(out var nameLength) || !reader.TryRead(nameLength, out var nameBytes)
            || !reader.TryRead(1, out var typeByte) || !Enum.IsDefined((TensorDataType)typeByte[0])
            || !reader.TryReadInt32(out var rank) || rank < 0 || rank > reader.Remaining / 8)
        {
            return false;
        }
        var type = (TensorDataType)typeByte[0];
        var shape = new long[rank];
        long count = 1;
        for (var d = 0; d < rank; d++)
        {
            reader.TryReadInt64(out shape[d]);
            if (shape[d] < 0 || (shape[d] > 0 && count > long.MaxValue / shape[d]))
            {
                return false;
            }
            count *= shape[d];
        }
        if (!reader.TryReadInt32(out var length) || !reader.TryRead(length, out var data))
        {
            return false;
        }
        if (type == TensorDataType.Bytes ? !IsBytesLayout(data, count) : count > int.MaxValue || count * type.ElementSize() != length)
        {
            return false;
        }
        var name = Encoding.UTF8.GetString(nameBytes);
        tensor = type == TensorDataType.Bytes ? TensorBuffer.RentBytes(name, shape, length) : TensorBuffer.Rent(name, type, shape);
        data.CopyTo(tensor.Span);
        return true;
    }

    /// <summary>Whether <paramref name="data"/> is exactly <paramref name="count"/> length-prefixed elements.</summary>
    private static bool IsBytesLayout(ReadOnlySpan<byte> data, long count)
    {
        var offset = 0;
        for (long i = 0; i < count; i++)
        {
            if (data.Length - offset < 4)
            {
                return false;
            }
            var length = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
            offset += 4;
            if (length < 0 || length > data.Length - offset)
            {
                return false;
            }
            offset += length;
        }
        return offset == data.Length;
    }

    private static void WriteInt32(IBufferWriter<byte> writer, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(writer.GetSpan(4), value);
        writer.Advance(4);
    }

    private ref struct EntryReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _offset;

        public readonly int Remaining => _data.Length - _offset;

        public bool TryRead(int length, out ReadOnlySpan<byte> bytes)
        {
            if (length < 0 || length > Remaining)
            {
                bytes = default;
                return false;
            }
            bytes = _data.Slice(_offset, length);
            _offset += length;
            return true;
        }

        public bool TryReadInt32(out int value)
        {
            var ok = TryRead(4, out var bytes);
            value = ok ? BinaryPrimitives.ReadInt32LittleEndian(bytes) : 0;
            return ok;
        }

        public bool TryReadInt64(out long value)
        {
            var ok = TryRead(8, out var bytes);
            value = ok ? BinaryPrimitives.ReadInt64LittleEndian(bytes) : 0;
            return ok;
        }
    }

    /// <summary>Writes into an array of exactly the right size (<see cref="GetEncodedLength"/>).</summary>
    private sealed class FixedBufferWriter(byte[] array) : IBufferWriter<byte>
    {
        private int _written;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => array.AsMemory(_written);

        public Span<byte> GetSpan(int sizeHint = 0) => array.AsSpan(_written);
    }
}
