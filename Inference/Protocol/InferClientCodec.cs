using System.Buffers;
using System.Text.Json;
using MlPlatform.Inference.Tensors;
using static MlPlatform.Inference.Protocol.TensorJsonParser;

namespace MlPlatform.Inference.Protocol;

/// <summary>A decoded V2 infer response; dispose it to return the output buffers.</summary>
public sealed class InferResponse(string modelName, string modelVersion, string? id, IReadOnlyList<TensorBuffer> outputs) : IDisposable
{
    /// <summary>The model's name.</summary>
    public string ModelName { get; } = modelName;

    /// <summary>The version that served the request.</summary>
    public string ModelVersion { get; } = modelVersion;

    /// <summary>The echoed request id.</summary>
    public string? Id { get; } = id;

    /// <summary>The outputs in response order.</summary>
    public IReadOnlyList<TensorBuffer> Outputs { get; } = outputs;

    /// <summary>The output named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such output.</exception>
    public TensorBuffer this[string name] => Outputs.FirstOrDefault(o => o.Name == name) ?? throw new KeyNotFoundException(name);

    /// <summary>Returns the buffers to the pool.</summary>
    public void Dispose()
    {
        foreach (var output in Outputs)
        {
            output.Dispose();
        }
    }
}

/// <summary>The client side of the protocol: encodes requests and decodes responses (tests, benchmarks, tools).</summary>
public static class InferClientCodec
{
    /// <summary>Encodes a request; returns the JSON part's length (send it as <c>Inference-Header-Content-Length</c> when any tensor is binary).</summary>
    /// <param name="destination">Receives the JSON, then binary inputs in order.</param>
    /// <param name="id">Request id, or null.</param>
    /// <param name="inputs">The input tensors.</param>
    /// <param name="binaryInputs">Send inputs as binary data instead of JSON.</param>
    /// <param name="outputs">Outputs to ask for (null for all).</param>
    /// <param name="binaryOutputs">Ask for outputs as binary data.</param>
    public static int WriteRequest(IBufferWriter<byte> destination, string? id, IReadOnlyList<TensorBuffer> inputs, bool binaryInputs,
        IReadOnlyList<string>? outputs = null, bool binaryOutputs = false)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(inputs);
        int jsonLength;
        using (var writer = new Utf8JsonWriter(destination, new JsonWriterOptions { SkipValidation = true }))
        {
            writer.WriteStartObject();
            if (id is not null)
            {
                writer.WriteString("id"u8, id);
            }
            if (binaryOutputs)
            {
                writer.WriteStartObject("parameters"u8);
                writer.WriteBoolean("binary_data_output"u8, true);
                writer.WriteEndObject();
            }
            writer.WriteStartArray("inputs"u8);
            foreach (var input in inputs)
            {
                InferResponseWriter.WriteTensor(writer, input, binaryInputs);
            }
            writer.WriteEndArray();
            if (outputs is not null)
            {
                writer.WriteStartArray("outputs"u8);
                foreach (var output in outputs)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name"u8, output);
                    if (binaryOutputs)
                    {
                        writer.WriteStartObject("parameters"u8);
                        writer.WriteBoolean("binary_data"u8, true);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
            writer.Flush();
            jsonLength = (int)writer.BytesCommitted;
        }
        if (binaryInputs)
        {
            foreach (var input in inputs)
            {
                destination.Write(input.Span);
            }
        }
        return jsonLength;
    }

    /// <summary>Decodes a response body (JSON, or JSON header plus binary outputs when <paramref name="jsonLength"/> is given).</summary>
    /// <exception cref="InferenceProtocolException">The body is not a V2 infer response.</exception>
    public static InferResponse ReadResponse(ReadOnlySpan<byte> body, int? jsonLength)
    {
        var json = jsonLength is { } l ? body[..l] : body;
        var binary = jsonLength is { } h ? body[h..] : [];
        string? name = null, version = null, id = null;
        var headers = new List<TensorHeader>();
        var readerBase = 0;
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            Next(ref reader);
            Expect(ref reader, JsonTokenType.StartObject, "The response body must be a JSON object.");
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model_name"u8))
                {
                    Next(ref reader);
                    name = reader.GetString();
                }
                else if (reader.ValueTextEquals("model_version"u8))
                {
                    Next(ref reader);
                    version = reader.GetString();
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    Next(ref reader);
                    id = reader.GetString();
                }
                else if (reader.ValueTextEquals("outputs"u8))
                {
                    Next(ref reader);
                    Expect(ref reader, JsonTokenType.StartArray, "'outputs' must be an array.");
                    while (Next(ref reader) != JsonTokenType.EndArray)
                    {
                        headers.Add(ReadHeader(ref reader, json, ref readerBase, "output", dataIsRead: true));
                    }
                }
                else
                {
                    Next(ref reader);
                    reader.Skip();
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw Bad($"Malformed response: {(readerBase == 0 || ex is not JsonException ? ex.Message : FirstJsonError(json) ?? ex.Message)}");
        }
        var outputs = InferRequestReader.ReadTensors(json, binary, headers, "output");
        return new InferResponse(name ?? "", version ?? "", id, outputs);
    }
}
