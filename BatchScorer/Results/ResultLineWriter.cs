using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MlPlatform.BatchScorer.Results;

/// <summary>One output tensor of a scored batch, as the result writer reads it: row-major little-endian data with the batch axis first.</summary>
/// <param name="Datatype">V2 datatype name (FP32, FP64, INT32, INT64, BOOL…).</param>
public readonly record struct OutputColumn(string Name, string Datatype, ReadOnlyMemory<byte> Data, long[] RowShape, int RowElements);

/// <summary>
/// Writes a chunk's result lines (<c>{"row":0,"outputs":{...}}</c> or <c>{"row":1,"error":"..."}</c>) into a stream,
/// buffering about a megabyte at a time. Floats are written in their shortest round-trip form.
/// </summary>
public sealed class ResultLineWriter : IDisposable
{
    private const int FlushThreshold = 1024 * 1024;
    private readonly Stream _stream;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold + 64 * 1024);
    private readonly Utf8JsonWriter _json;

    public ResultLineWriter(Stream stream)
    {
        _stream = stream;
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public int LinesWritten { get; private set; }

    public async ValueTask WriteErrorAsync(long row, string error, CancellationToken cancellationToken)
    {
        _json.WriteStartObject();
        _json.WriteNumber("row"u8, row);
        _json.WriteString("error"u8, error);
        _json.WriteEndObject();
        await EndLineAsync(cancellationToken);
    }

    /// <summary>Writes row <paramref name="row"/> from slot <paramref name="slot"/> of every output column.</summary>
    public async ValueTask WriteOutputsAsync(long row, IReadOnlyList<OutputColumn> outputs, int slot, CancellationToken cancellationToken)
    {
        _json.WriteStartObject();
        _json.WriteNumber("row"u8, row);
        _json.WriteStartObject("outputs"u8);
        foreach (var output in outputs)
        {
            _json.WritePropertyName(output.Name);
            var start = slot * output.RowElements;
            WriteTensor(output, 0, ref start);
        }
        _json.WriteEndObject();
        _json.WriteEndObject();
        await EndLineAsync(cancellationToken);
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        _json.Flush();
        if (_buffer.WrittenCount > 0)
        {
            await _stream.WriteAsync(_buffer.WrittenMemory, cancellationToken);
            _buffer.ResetWrittenCount();
            _json.Reset(_buffer);
        }
    }

    private void WriteTensor(in OutputColumn output, int depth, ref int index)
    {
        if (depth == output.RowShape.Length)
        {
            WriteElement(output, index++);
            return;
        }
        _json.WriteStartArray();
        for (long i = 0; i < output.RowShape[depth]; i++)
        {
            WriteTensor(output, depth + 1, ref index);
        }
        _json.WriteEndArray();
    }

    /// <summary>Output datatypes a result line can carry.</summary>
    public static bool IsSupported(string datatype) =>
        datatype is "FP32" or "FP64" or "INT8" or "INT16" or "INT32" or "INT64" or "UINT8" or "UINT16" or "UINT32" or "UINT64" or "BOOL";

    private void WriteElement(in OutputColumn output, int index)
    {
        var data = output.Data.Span;
        switch (output.Datatype)
        {
            case "FP32":
                var f = MemoryMarshal.Cast<byte, float>(data)[index];
                if (float.IsFinite(f)) _json.WriteNumberValue(f); else _json.WriteNullValue();
                break;
            case "FP64":
                var d = MemoryMarshal.Cast<byte, double>(data)[index];
                if (double.IsFinite(d)) _json.WriteNumberValue(d); else _json.WriteNullValue();
                break;
            case "INT8": _json.WriteNumberValue(MemoryMarshal.Cast<byte, sbyte>(data)[index]); break;
            case "INT16": _json.WriteNumberValue(MemoryMarshal.Cast<byte, short>(data)[index]); break;
            case "INT32": _json.WriteNumberValue(MemoryMarshal.Cast<byte, int>(data)[index]); break;
            case "INT64": _json.WriteNumberValue(MemoryMarshal.Cast<byte, long>(data)[index]); break;
            case "UINT8": _json.WriteNumberValue(data[index]); break;
            case "UINT16": _json.WriteNumberValue(MemoryMarshal.Cast<byte, ushort>(data)[index]); break;
            case "UINT32": _json.WriteNumberValue(MemoryMarshal.Cast<byte, uint>(data)[index]); break;
            case "UINT64": _json.WriteNumberValue(MemoryMarshal.Cast<byte, ulong>(data)[index]); break;
            case "BOOL": _json.WriteBooleanValue(data[index] != 0); break;
            default: throw new NotSupportedException($"Outputs of type {output.Datatype} cannot be written.");
        }
    }

    private async ValueTask EndLineAsync(CancellationToken cancellationToken)
    {
        _json.Flush();
        _buffer.Write("\n"u8);
        _json.Reset(_buffer);
        LinesWritten++;
        if (_buffer.WrittenCount >= FlushThreshold)
        {
            await FlushAsync(cancellationToken);
        }
    }

    public void Dispose() => _json.Dispose();
}
