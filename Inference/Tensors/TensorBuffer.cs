using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.OnnxRuntime;

namespace MlPlatform.Inference.Tensors;

/// <summary>
/// A named tensor whose elements live in a pooled byte array: fixed-size types row-major little-endian, BYTES as
/// 4-byte length plus bytes per element (the binary tensor extension's layout). Return it to the pool with <see cref="Dispose"/>.
/// </summary>
public sealed class TensorBuffer : IDisposable
{
    private byte[]? _array;

    private TensorBuffer(string name, TensorDataType dataType, long[] shape, long elementCount, byte[] array, int byteLength)
    {
        Name = name;
        DataType = dataType;
        Shape = shape;
        ElementCount = elementCount;
        _array = array;
        ByteLength = byteLength;
    }

    /// <summary>The tensor's name (input or output name).</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public TensorDataType DataType { get; }

    /// <summary>The dimensions; every one is known (no -1).</summary>
    public long[] Shape { get; }

    /// <summary>The product of <see cref="Shape"/>.</summary>
    public long ElementCount { get; }

    /// <summary>Length of the element bytes in <see cref="Span"/>.</summary>
    public int ByteLength { get; private set; }

    /// <summary>The element bytes.</summary>
    /// <exception cref="ObjectDisposedException">The buffer went back to the pool.</exception>
    public Span<byte> Span => Array.AsSpan(0, ByteLength);

    /// <summary>The element bytes as memory.</summary>
    public Memory<byte> Memory => Array.AsMemory(0, ByteLength);

    private byte[] Array => _array ?? throw new ObjectDisposedException(nameof(TensorBuffer));

    /// <summary>Number of elements, or throws when the shape's product overflows or is negative.</summary>
    /// <exception cref="ArgumentException">A dimension is negative or the product overflows.</exception>
    public static long CountElements(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException("Tensor dimensions must not be negative.", nameof(shape));
            }
            count = checked(count * dim);
        }
        return count;
    }

    /// <summary>Rents a buffer for a fixed-size tensor; the contents are uninitialised.</summary>
    /// <exception cref="ArgumentException">The datatype is BYTES (use <see cref="RentBytes"/>) or the tensor exceeds 2 GiB.</exception>
    public static TensorBuffer Rent(string name, TensorDataType dataType, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (dataType == TensorDataType.Bytes)
        {
            throw new ArgumentException("BYTES tensors vary in length; use RentBytes.", nameof(dataType));
        }
        var count = CountElements(shape);
        var bytes = count * dataType.ElementSize();
        if (bytes > System.Array.MaxLength)
        {
            throw new ArgumentException("The tensor exceeds the largest buffer.", nameof(shape));
        }
        return new TensorBuffer(name, dataType, shape, count, ArrayPool<byte>.Shared.Rent(Math.Max(1, (int)bytes)), (int)bytes);
    }

    /// <summary>Rents a buffer for a BYTES tensor of <paramref name="byteLength"/> bytes in length-prefixed layout.</summary>
    public static TensorBuffer RentBytes(string name, long[] shape, int byteLength)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        var count = CountElements(shape);
        return new TensorBuffer(name, TensorDataType.Bytes, shape, count, ArrayPool<byte>.Shared.Rent(Math.Max(1, byteLength)), byteLength);
    }

    /// <summary>Takes ownership of an array rented from <see cref="ArrayPool{T}.Shared"/> holding <paramref name="byteLength"/> element bytes.</summary>
    public static TensorBuffer FromRented(string name, TensorDataType dataType, long[] shape, byte[] rented, int byteLength)
    {
        ArgumentNullException.ThrowIfNull(rented);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(byteLength, rented.Length);
        return new TensorBuffer(name, dataType, shape, CountElements(shape), rented, byteLength);
    }

    /// <summary>Copies a tensor of known values (tests, warm-up, benchmarks).</summary>
    public static TensorBuffer FromValues<T>(string name, TensorDataType dataType, long[] shape, ReadOnlySpan<T> values) where T : unmanaged
    {
        var buffer = Rent(name, dataType, shape);
        var source = MemoryMarshal.AsBytes(values);
        if (source.Length != buffer.ByteLength)
        {
            buffer.Dispose();
            throw new ArgumentException($"Expected {buffer.ElementCount} elements of {dataType.ToV2Name()}.", nameof(values));
        }
        source.CopyTo(buffer.Span);
        return buffer;
    }

    /// <summary>Builds a BYTES tensor from strings (UTF-8).</summary>
    public static TensorBuffer FromStrings(string name, long[] shape, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var length = 0;
        foreach (var value in values)
        {
            length = checked(length + 4 + Encoding.UTF8.GetByteCount(value));
        }
        var buffer = RentBytes(name, shape, length);
        if (buffer.ElementCount != values.Count)
        {
            buffer.Dispose();
            throw new ArgumentException($"Expected {buffer.ElementCount} strings.", nameof(values));
        }
        var span = buffer.Span;
        var offset = 0;
        foreach (var value in values)
        {
            var written = Encoding.UTF8.GetBytes(value, span[(offset + 4)..]);
            BinaryPrimitives.WriteInt32LittleEndian(span[offset..], written);
            offset += 4 + written;
        }
        return buffer;
    }

    /// <summary>The elements reinterpreted as <typeparamref name="T"/> (fixed-size types only).</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Span);

    /// <summary>The BYTES elements as UTF-8 strings.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not BYTES.</exception>
    public string[] ToStrings()
    {
        if (DataType != TensorDataType.Bytes)
        {
            throw new InvalidOperationException("Only BYTES tensors hold strings.");
        }
        var result = new string[ElementCount];
        var span = Span;
        var offset = 0;
        for (var i = 0; i < result.Length; i++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
            result[i] = Encoding.UTF8.GetString(span.Slice(offset + 4, length));
            offset += 4 + length;
        }
        return result;
    }

    /// <summary>
    /// An <see cref="OrtValue"/> over this buffer's memory, pinned until the returned value is disposed (no copy);
    /// BYTES tensors are copied into an ORT string tensor, as ORT owns string storage.
    /// </summary>
    public PinnedOrtValue ToOrtValue()
    {
        if (DataType == TensorDataType.Bytes)
        {
            var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, Shape);
            var span = Span;
            var offset = 0;
            for (var i = 0; i < ElementCount; i++)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
                value.StringTensorSetElementAt(span.Slice(offset + 4, length), i);
                offset += 4 + length;
            }
            return new PinnedOrtValue(value, default);
        }

        var pin = Array.AsMemory().Pin();
        try
        {
            unsafe
            {
                var value = OrtValue.CreateTensorValueWithData(
                    OrtMemoryInfo.DefaultInstance, DataType.ToOrt(), Shape, (IntPtr)pin.Pointer, ByteLength);
                return new PinnedOrtValue(value, pin);
            }
        }
        catch
        {
            pin.Dispose();
            throw;
        }
    }

    /// <summary>Copies an ORT tensor output into a pooled buffer.</summary>
    /// <exception cref="NotSupportedException">The value is not a tensor of a V2 datatype.</exception>
    public static TensorBuffer FromOrtValue(string name, OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.IsTensor)
        {
            throw new NotSupportedException($"Output '{name}' is not a tensor.");
        }
        var info = value.GetTensorTypeAndShape();
        if (!OrtDataTypes.TryFromOrt(info.ElementDataType, out var dataType))
        {
            throw new NotSupportedException($"Output '{name}' has element type {info.ElementDataType}, which V2 cannot carry.");
        }
        var shape = info.Shape;
        if (dataType != TensorDataType.Bytes)
        {
            var buffer = Rent(name, dataType, shape);
            value.GetTensorDataAsSpan<byte>().CopyTo(buffer.Span);
            return buffer;
        }

        var count = (int)info.ElementCount;
        var length = 0;
        for (var i = 0; i < count; i++)
        {
            length = checked(length + 4 + value.GetStringElementAsSpan(i).Length);
        }
        var strings = RentBytes(name, shape, length);
        var target = strings.Span;
        var offset = 0;
        for (var i = 0; i < count; i++)
        {
            var element = value.GetStringElementAsSpan(i);
            element.CopyTo(target[(offset + 4)..]);
            BinaryPrimitives.WriteInt32LittleEndian(target[offset..], element.Length);
            offset += 4 + element.Length;
        }
        return strings;
    }

    /// <summary>Byte offset of row <paramref name="row"/> along the first axis.</summary>
    public int RowOffset(long row)
    {
        if (row == 0)
        {
            return 0;
        }
        var rows = Shape.Length == 0 ? 1 : Shape[0];
        ArgumentOutOfRangeException.ThrowIfGreaterThan(row, rows);
        var perRow = rows == 0 ? 0 : ElementCount / rows;
        if (DataType != TensorDataType.Bytes)
        {
            return (int)(row * perRow * DataType.ElementSize());
        }
        var span = Span;
        var offset = 0;
        for (long i = 0; i < row * perRow; i++)
        {
            offset += 4 + BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
        }
        return offset;
    }

    /// <summary>Copies rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of the first axis into a new buffer.</summary>
    public TensorBuffer SliceRows(long start, long count)
    {
        if (Shape.Length == 0)
        {
            throw new InvalidOperationException($"Tensor '{Name}' is a scalar and has no rows.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Shape[0]);
        var from = RowOffset(start);
        var to = RowOffset(start + count);
        var shape = (long[])Shape.Clone();
        shape[0] = count;
        var slice = DataType == TensorDataType.Bytes ? RentBytes(Name, shape, to - from) : Rent(Name, DataType, shape);
        Span[from..to].CopyTo(slice.Span);
        return slice;
    }

    /// <summary>Stacks tensors of equal datatype and non-batch dimensions along the first axis into a new buffer.</summary>
    /// <exception cref="ArgumentException">The parts differ in datatype, rank or a non-batch dimension.</exception>
    public static TensorBuffer Concatenate(string name, IReadOnlyList<TensorBuffer> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new ArgumentException("Nothing to stack.", nameof(parts));
        }
        var first = parts[0];
        if (first.Shape.Length == 0)
        {
            throw new ArgumentException("Scalars cannot be stacked.", nameof(parts));
        }
        long rows = 0;
        long bytes = 0;
        foreach (var part in parts)
        {
            if (part.DataType != first.DataType || !part.Shape.AsSpan(1).SequenceEqual(first.Shape.AsSpan(1)))
            {
                throw new ArgumentException($"Tensor '{name}' parts differ in datatype or non-batch dimensions.", nameof(parts));
            }
            rows += part.Shape[0];
            bytes += part.ByteLength;
        }
        if (bytes > System.Array.MaxLength)
        {
            throw new ArgumentException("The stacked tensor exceeds the largest buffer.", nameof(parts));
        }
        var shape = (long[])first.Shape.Clone();
        shape[0] = rows;
        var stacked = first.DataType == TensorDataType.Bytes ? RentBytes(name, shape, (int)bytes) : Rent(name, first.DataType, shape);
        var target = stacked.Span;
        var offset = 0;
        foreach (var part in parts)
        {
            part.Span.CopyTo(target[offset..]);
            offset += part.ByteLength;
        }
        return stacked;
    }

    /// <summary>Returns the array to the pool; the buffer is unusable afterwards.</summary>
    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}

/// <summary>An <see cref="OrtValue"/> and the pin that keeps its managed memory in place; dispose both together.</summary>
public readonly struct PinnedOrtValue(OrtValue value, MemoryHandle pin) : IDisposable
{
    /// <summary>The ORT value.</summary>
    public OrtValue Value { get; } = value;

    /// <summary>Releases the value, then the pin.</summary>
    public void Dispose()
    {
        Value.Dispose();
        pin.Dispose();
    }
}
