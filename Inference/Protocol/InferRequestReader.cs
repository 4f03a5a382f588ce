using System.Text.Json;
using MlPlatform.Inference.Tensors;
using static MlPlatform.Inference.Protocol.TensorJsonParser;

namespace MlPlatform.Inference.Protocol;

/// <summary>Decodes V2 infer requests (JSON, or JSON header plus binary tensors) into pooled buffers, checked against a signature.</summary>
public static class InferRequestReader
{
    /// <summary>Decodes a request body.</summary>
    /// <param name="body">The whole body.</param>
    /// <param name="jsonLength">The <c>Inference-Header-Content-Length</c> header, or null when the body is all JSON.</param>
    /// <param name="signature">When given, inputs are checked against it (names, datatypes, shapes, no missing input) and requested outputs must exist.</param>
    /// <param name="limits">Limits enforced while reading.</param>
    /// <exception cref="InferenceProtocolException">The body is malformed or does not fit the signature; the message says which input and what was expected.</exception>
    public static InferRequest Read(ReadOnlySpan<byte> body, int? jsonLength, ModelSignature? signature, InferRequestLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (jsonLength is { } length && (length < 0 || length > body.Length))
        {
            throw Bad($"Inference-Header-Content-Length is {length} but the body has {body.Length} bytes.");
        }
        var json = jsonLength is { } l ? body[..l] : body;
        var binary = jsonLength is { } h ? body[h..] : [];

        var readerBase = 0;
        try
        {
            return Read(json, binary, signature, limits, ref readerBase);
        }
        catch (InferenceProtocolException) when (readerBase != 0 && FirstJsonError(json) is { } error)
        {
            // A data array passed over unread may hide the body's real problem behind a later, misleading one (an unmatched quote in
            // it turns the rest into different keys): a body that is not JSON is answered as such.
            throw Bad($"Malformed JSON: {error}");
        }
        catch (InvalidOperationException ex)
        {
            // Utf8JsonReader reports a string it cannot decode (invalid UTF-8, an unpaired surrogate escape such as "\ud800") this way,
            // not as a JsonException, when the string is read. Everything read here is the client's body: a client error, never a 500
            // that the guard and rollouts would count against the model.
            throw Bad($"Malformed JSON: {ex.Message}");
        }
    }

    private static InferRequest Read(ReadOnlySpan<byte> json, ReadOnlySpan<byte> binary, ModelSignature? signature, InferRequestLimits limits, ref int readerBase)
    {
        string? id = null;
        var binaryDataOutput = false;
        var headers = new List<TensorHeader>();
        var outputs = new List<RequestedOutput>();
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            Next(ref reader);
            Expect(ref reader, JsonTokenType.StartObject, "The request body must be a JSON object.");
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    Next(ref reader);
                    id = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw Bad("'id' must be a string.");
                }
                else if (reader.ValueTextEquals("parameters"u8))
                {
                    Next(ref reader);
                    binaryDataOutput = ReadRequestParameters(ref reader);
                }
                else if (reader.ValueTextEquals("inputs"u8))
                {
                    Next(ref reader);
                    Expect(ref reader, JsonTokenType.StartArray, "'inputs' must be an array.");
                    while (Next(ref reader) != JsonTokenType.EndArray)
                    {
                        headers.Add(ReadHeader(ref reader, json, ref readerBase, "input", dataIsRead: true));
                    }
                }
                else if (reader.ValueTextEquals("outputs"u8))
                {
                    Next(ref reader);
                    Expect(ref reader, JsonTokenType.StartArray, "'outputs' must be an array.");
                    while (Next(ref reader) != JsonTokenType.EndArray)
                    {
                        var output = ReadHeader(ref reader, json, ref readerBase, "output", dataIsRead: false);
                        outputs.Add(new RequestedOutput(output.Name!, output.BinaryData));
                    }
                }
                else
                {
                    Next(ref reader);
                    reader.Skip();
                }
            }
            if (reader.Read())
            {
                throw Bad("The JSON body has content after its closing brace.");
            }
        }
        catch (JsonException ex)
        {
            // A reader that resumed after a data array counts positions from there; the whole text gives the client real ones.
            throw Bad($"Malformed JSON: {(readerBase == 0 ? ex.Message : FirstJsonError(json) ?? ex.Message)}");
        }

        if (headers.Count == 0)
        {
            throw Bad("The request has no 'inputs'.");
        }
        Check(headers, outputs, signature, limits);
        return new InferRequest(id, ReadTensors(json, binary, headers, "input"), outputs, binaryDataOutput);
    }

    /// <summary>Reads header/data pairs into buffers, data from JSON or from the binary section in order of appearance.</summary>
    internal static TensorBuffer[] ReadTensors(ReadOnlySpan<byte> json, ReadOnlySpan<byte> binary, List<TensorHeader> headers, string kind)
    {
        var tensors = new TensorBuffer[headers.Count];
        var created = 0;
        var binaryOffset = 0;
        try
        {
            foreach (var header in headers)
            {
                var name = header.Name!;
                var type = ParseDatatype(header.DatatypeText, name, kind);
                var shape = header.Shape ?? throw Bad($"{Describe(kind, name)} has no 'shape'.");
                if (header.BinaryDataSize is { } size)
                {
                    if (header.DataStart >= 0)
                    {
                        ValidateData(json, header.DataStart);
                    }
                    if (size > binary.Length - binaryOffset)
                    {
                        throw Bad($"{Describe(kind, name)}: binary_data_size is {size} but only {binary.Length - binaryOffset} binary bytes remain.");
                    }
                    var tensor = ReadBinary(binary.Slice(binaryOffset, (int)size), name, type, shape, kind);
                    tensors[created++] = tensor;
                    binaryOffset += (int)size;
                }
                else if (header.DataStart >= 0)
                {
                    var tensor = ReadData(json, header.DataStart, name, type, shape, kind);
                    tensors[created++] = tensor;
                }
                else
                {
                    throw Bad($"{Describe(kind, name)} has neither 'data' nor 'parameters.binary_data_size'.");
                }
            }
            if (binaryOffset != binary.Length)
            {
                throw Bad($"The binary section has {binary.Length - binaryOffset} bytes that no binary_data_size accounts for.");
            }
            return tensors;
        }
        catch (JsonException ex)
        {
            Release(tensors, created);
            // The data readers start at the data value; the whole text gives the client positions in the body.
            throw Bad($"Malformed JSON: {FirstJsonError(json) ?? ex.Message}");
        }
        catch
        {
            Release(tensors, created);
            throw;
        }
    }

    /// <summary>
    /// Builds a request whose envelope another front end decoded (gRPC), with exactly the checks a V2 body gets: names, datatypes,
    /// shapes and element limits against the signature, requested outputs, then each input's data through <paramref name="readData"/>.
    /// </summary>
    /// <exception cref="InferenceProtocolException">The request does not fit the signature; the same message as for a V2 body.</exception>
    public static InferRequest Assemble(string? id, IReadOnlyList<InputHeader> inputs, InputDataReader readData,
        IReadOnlyList<RequestedOutput> outputs, bool binaryDataOutput, ModelSignature? signature, InferRequestLimits limits)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(readData);
        ArgumentNullException.ThrowIfNull(limits);
        if (inputs.Count == 0)
        {
            throw Bad("The request has no 'inputs'.");
        }
        var headers = new List<TensorHeader>(inputs.Count);
        foreach (var input in inputs)
        {
            if (string.IsNullOrEmpty(input.Name))
            {
                throw Bad("An input has no 'name'.");
            }
            if (input.Shape.Length > MaxRank)
            {
                throw Bad($"{Describe("input", input.Name)}: 'shape' has more than {MaxRank} dimensions.");
            }
            foreach (var dim in input.Shape)
            {
                if (dim < 0)
                {
                    throw Bad($"{Describe("input", input.Name)}: 'shape' must hold non-negative integers.");
                }
            }
            headers.Add(new TensorHeader { Name = input.Name, DatatypeText = input.Datatype, Shape = input.Shape, DataStart = -1 });
        }
        Check(headers, [.. outputs], signature, limits);

        var tensors = new TensorBuffer[inputs.Count];
        var created = 0;
        try
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                var type = ParseDatatype(inputs[i].Datatype, inputs[i].Name, "input");
                tensors[created] = readData(i, inputs[i].Name, type, inputs[i].Shape);
                created++;
            }
        }
        catch
        {
            Release(tensors, created);
            throw;
        }
        return new InferRequest(id, tensors, outputs, binaryDataOutput);
    }

    /// <summary>Takes one input's raw bytes (gRPC <c>raw_input_contents</c>), checking that they fit its datatype and shape.</summary>
    /// <exception cref="InferenceProtocolException">The byte count (or the BYTES layout) does not fit the shape.</exception>
    public static TensorBuffer ReadRaw(ReadOnlySpan<byte> bytes, string name, TensorDataType type, long[] shape, string sizeName) =>
        ReadBinary(bytes, name, type, shape, "input", sizeName);

    private static TensorDataType ParseDatatype(string? text, string name, string kind) =>
        text is not null && TensorDataTypes.TryParse(text, out var type)
            ? type
            : throw Bad($"{Describe(kind, name)}: 'datatype' must be one of BOOL, UINT8/16/32/64, INT8/16/32/64, FP16, FP32, FP64, BYTES, not '{text}'.");

    private static void Release(TensorBuffer[] tensors, int created)
    {
        for (var i = 0; i < created; i++)
        {
            tensors[i].Dispose();
        }
    }

    private static bool ReadRequestParameters(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartObject, "'parameters' must be an object.");
        var binaryDataOutput = false;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("binary_data_output"u8))
            {
                Next(ref reader);
                binaryDataOutput = reader.TokenType switch
                {
                    JsonTokenType.True => true,
                    JsonTokenType.False => false,
                    _ => throw Bad("'binary_data_output' must be true or false."),
                };
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }
        return binaryDataOutput;
    }

    private static void Check(List<TensorHeader> headers, List<RequestedOutput> outputs, ModelSignature? signature, InferRequestLimits limits)
    {
        long? batch = null;
        for (var i = 0; i < headers.Count; i++)
        {
            var header = headers[i];
            var name = header.Name!;
            for (var j = 0; j < i; j++)
            {
                if (headers[j].Name == name)
                {
                    throw Bad($"Input '{name}' appears more than once.");
                }
            }
            if (header.Shape is null)
            {
                throw Bad($"Input '{name}' has no 'shape'.");
            }
            long elements;
            try
            {
                elements = TensorBuffer.CountElements(header.Shape);
            }
            catch (OverflowException)
            {
                throw new InferenceProtocolException($"Input '{name}': shape {TensorSpec.FormatShape(header.Shape)} has too many elements.", 413);
            }
            if (elements > limits.MaxElementsPerInput)
            {
                throw new InferenceProtocolException(
                    $"Input '{name}': shape {TensorSpec.FormatShape(header.Shape)} has {elements} elements; the limit is {limits.MaxElementsPerInput} per input.", 413);
            }
            if (signature is null)
            {
                continue;
            }
            var spec = signature.FindInput(name)
                ?? throw Bad($"Unknown input '{name}'; the model expects: {signature.DescribeInputs()}.");
            if (header.DatatypeText != spec.Datatype)
            {
                throw Bad($"Input '{name}' has datatype {header.DatatypeText ?? "(none)"} but the model expects {spec.Datatype}.");
            }
            if (!spec.Accepts(header.Shape))
            {
                throw Bad($"Input '{name}' has shape {TensorSpec.FormatShape(header.Shape)} but the model expects {spec.ShapeText} (-1 = any size).");
            }
            if (signature.IsBatchable)
            {
                if (batch is { } b && b != header.Shape[0])
                {
                    throw Bad($"Input '{name}' has batch size {header.Shape[0]} but another input has {b}; all inputs must agree on the first dimension.");
                }
                batch = header.Shape[0];
            }
        }
        if (signature is null)
        {
            return;
        }
        foreach (var spec in signature.Inputs)
        {
            if (!headers.Exists(h => h.Name == spec.Name))
            {
                throw Bad($"Missing input '{spec.Name}' ({spec.Datatype} {spec.ShapeText}).");
            }
        }
        foreach (var output in outputs)
        {
            if (signature.FindOutput(output.Name) is null)
            {
                throw Bad($"Unknown output '{output.Name}'; the model has outputs: {string.Join(", ", signature.Outputs.Select(o => o.Name))}.");
            }
        }
    }
}
