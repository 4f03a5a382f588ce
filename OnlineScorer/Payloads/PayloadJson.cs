using System.Buffers;
using System.Text.Json;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.OnlineScorer.Payloads;

/// <summary>Writes a <see cref="PayloadCapture"/> as the JSON of a <see cref="PayloadRecord"/> (web naming, the contract's member order).</summary>
public static class PayloadJson
{
    /// <summary>The record's UTF-8 JSON; without its tensors (<c>truncated: true</c>) when they would exceed the capture's byte limit.</summary>
    public static byte[] Write(PayloadCapture capture)
    {
        ArgumentNullException.ThrowIfNull(capture);
        var buffer = new ArrayBufferWriter<byte>(1024);
        if (!capture.Truncated)
        {
            try
            {
                WriteRecord(buffer, capture, withTensors: true);
                if (buffer.WrittenCount <= capture.MaxBytes)
                {
                    return buffer.WrittenSpan.ToArray();
                }
            }
            catch (InferenceProtocolException)
            {
                // A BYTES tensor that is not UTF-8 text cannot be written as JSON: the record keeps its metadata only.
            }
            capture.Truncate();
            buffer.Clear();
        }
        WriteRecord(buffer, capture, withTensors: false);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteRecord(IBufferWriter<byte> destination, PayloadCapture capture, bool withTensors)
    {
        using var writer = new Utf8JsonWriter(destination);
        var end = capture.End;
        writer.WriteStartObject();
        writer.WriteString("id"u8, capture.Id);
        writer.WriteString("model"u8, capture.Model);
        writer.WriteNumber("version"u8, capture.Version);
        writer.WriteString("route"u8, capture.Route);
        writer.WriteString("at"u8, end.At);
        writer.WriteNumber("latencyMs"u8, Math.Round(end.LatencyMs, 3));
        writer.WriteString("outcome"u8, end.Outcome);
        writer.WriteNumber("status"u8, end.Status);
        if (end.Error is null)
        {
            writer.WriteNull("error"u8);
        }
        else
        {
            writer.WriteString("error"u8, end.Error);
        }
        WriteTensors(writer, "inputs"u8, withTensors && !capture.Truncated ? capture.Inputs : null);
        WriteTensors(writer, "outputs"u8, withTensors && !capture.Truncated && end.Status == StatusCodes.Status200OK ? capture.Outputs : null);
        writer.WriteBoolean("truncated"u8, !withTensors || capture.Truncated);
        writer.WriteEndObject();
    }

    private static void WriteTensors(Utf8JsonWriter writer, ReadOnlySpan<byte> name, IReadOnlyList<TensorBuffer>? tensors)
    {
        if (tensors is null)
        {
            writer.WriteNull(name);
            return;
        }
        writer.WriteStartArray(name);
        foreach (var tensor in tensors)
        {
            InferResponseWriter.WriteTensor(writer, tensor, binary: false);
        }
        writer.WriteEndArray();
    }
}
