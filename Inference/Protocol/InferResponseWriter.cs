using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.Inference.Protocol;

/// <summary>Encodes V2 infer responses: a JSON document, then the raw bytes of every output sent as binary data.</summary>
public static class InferResponseWriter
{
    /// <summary>Writes the response into <paramref name="destination"/> and returns the JSON part's length (the <c>Inference-Header-Content-Length</c>).</summary>
    /// <param name="destination">Receives the JSON, then the binary outputs in order.</param>
    /// <param name="modelName">The model's name.</param>
    /// <param name="modelVersion">The version that served the request (a string, as the protocol defines it).</param>
    /// <param name="id">The request id to echo, if any.</param>
    /// <param name="outputs">The outputs to send.</param>
    /// <param name="binary">Per output: send as binary data.</param>
    /// <exception cref="InferenceProtocolException">A BYTES output holds bytes that are not UTF-8 and was asked for as JSON.</exception>
    public static int Write(IBufferWriter<byte> destination, string modelName, string modelVersion, string? id,
        IReadOnlyList<TensorBuffer> outputs, ReadOnlySpan<bool> binary)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(outputs);
        if (binary.Length != outputs.Count)
        {
            throw new ArgumentException("One binary flag per output.", nameof(binary));
        }
        int jsonLength;
        using (var writer = new Utf8JsonWriter(destination, new JsonWriterOptions { SkipValidation = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("model_name"u8, modelName);
            writer.WriteString("model_version"u8, modelVersion);
            if (id is not null)
            {
                writer.WriteString("id"u8, id);
            }
            writer.WriteStartArray("outputs"u8);
            for (var i = 0; i < outputs.Count; i++)
            {
                WriteTensor(writer, outputs[i], binary[i]);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.Flush();
            jsonLength = (int)writer.BytesCommitted;
        }
        for (var i = 0; i < outputs.Count; i++)
        {
            if (binary[i])
            {
                destination.Write(outputs[i].Span);
            }
        }
        return jsonLength;
    }

    /// <summary>Writes one tensor object: name, datatype, shape, and data or <c>parameters.binary_data_size</c> (the payload log writes its tensors so too).</summary>
    /// <exception cref="InferenceProtocolException">A BYTES tensor holds bytes that are not UTF-8 and <paramref name="binary"/> is false.</exception>
    public static void WriteTensor(Utf8JsonWriter writer, TensorBuffer tensor, bool binary)
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, tensor.Name);
        writer.WriteString("datatype"u8, tensor.DataType.ToV2Name());
        writer.WriteStartArray("shape"u8);
        foreach (var dim in tensor.Shape)
        {
            writer.WriteNumberValue(dim);
        }
        writer.WriteEndArray();
        if (binary)
        {
            writer.WriteStartObject("parameters"u8);
            writer.WriteNumber("binary_data_size"u8, tensor.ByteLength);
            writer.WriteEndObject();
        }
        else
        {
            writer.WritePropertyName("data"u8);
            WriteData(writer, tensor);
        }
        writer.WriteEndObject();
    }

    /// <summary>Writes a tensor's elements as a flat, row-major JSON array.</summary>
    internal static void WriteData(Utf8JsonWriter writer, TensorBuffer tensor)
    {
        var span = tensor.Span;
        writer.WriteStartArray();
        switch (tensor.DataType)
        {
            case TensorDataType.FP32:
                foreach (var v in MemoryMarshal.Cast<byte, float>(span)) writer.WriteNumberValue(v);
                break;
            case TensorDataType.FP64:
                foreach (var v in MemoryMarshal.Cast<byte, double>(span)) writer.WriteNumberValue(v);
                break;
            case TensorDataType.FP16:
                foreach (var v in MemoryMarshal.Cast<byte, Half>(span)) writer.WriteNumberValue((float)v);
                break;
            case TensorDataType.Int64:
                foreach (var v in MemoryMarshal.Cast<byte, long>(span)) writer.WriteNumberValue(v);
                break;
            case TensorDataType.Int32:
                foreach (var v in MemoryMarshal.Cast<byte, int>(span)) writer.WriteNumberValue(v);
                break;
            case TensorDataType.Int16:
                foreach (var v in MemoryMarshal.Cast<byte, short>(span)) writer.WriteNumberValue(v);
                break;
            case TensorDataType.Int8:
                foreach (var v in MemoryMarshal.Cast<byte, sbyte>(span)) writer.WriteNumberValue(v);
                break;
            case TensorDataType.UInt64:
                foreach (var v in MemoryMarshal.Cast<byte, ulong>(span)) writer.WriteNumberValue(v);
                break;
            case TensorDataType.UInt32:
                foreach (var v in MemoryMarshal.Cast<byte, uint>(span)) writer.WriteNumberValue(v);
                break;
            case TensorDataType.UInt16:
                foreach (var v in MemoryMarshal.Cast<byte, ushort>(span)) writer.WriteNumberValue(v);
                break;
            case TensorDataType.UInt8:
                foreach (var v in span) writer.WriteNumberValue(v);
                break;
            case TensorDataType.Bool:
                foreach (var v in span) writer.WriteBooleanValue(v != 0);
                break;
            case TensorDataType.Bytes:
                var offset = 0;
                for (long i = 0; i < tensor.ElementCount; i++)
                {
                    var length = BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
                    var element = span.Slice(offset + 4, length);
                    if (!Utf8.IsValid(element))
                    {
                        throw new InferenceProtocolException(
                            $"Output '{tensor.Name}' element {i} is not UTF-8 text; ask for it with parameters.binary_data = true.");
                    }
                    writer.WriteStringValue(element);
                    offset += 4 + length;
                }
                break;
        }
        writer.WriteEndArray();
    }
}
