using System.Text;
using System.Text.Json;
using MlPlatform.BatchScorer.Jobs;

namespace MlPlatform.BatchScorer.Input;

/// <summary>
/// A JSONL row is an object mapping each input name to that row's tensor without the batch axis, as nested arrays
/// (<c>{"input": [0.1, 0.2, ...]}</c> for an input of shape [-1, 8]; a bare number for shape [-1]). Other properties are ignored.
/// </summary>
public sealed class JsonlRowParser : IRowParser
{
    private readonly IReadOnlyList<RowInput> _inputs;
    private readonly bool[] _seen;

    public JsonlRowParser(IReadOnlyList<RowInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        _inputs = inputs;
        _seen = new bool[inputs.Count];
    }

    public bool TryParse(ReadOnlySpan<byte> line, RowBatch batch, out string? error)
    {
        Array.Clear(_seen);
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "A JSONL row must be a JSON object mapping input names to values.";
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var input = IndexOf(ref reader);
                reader.Read();
                if (input < 0)
                {
                    reader.Skip();
                    continue;
                }
                if (_seen[input])
                {
                    error = $"Input '{_inputs[input].Name}' appears twice.";
                    return false;
                }
                _seen[input] = true;
                var element = 0;
                if (!ReadTensor(ref reader, batch, input, 0, ref element, out error))
                {
                    return false;
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = "A JSONL row must hold exactly one JSON object.";
                return false;
            }
        }
        catch (JsonException ex)
        {
            error = $"Invalid JSON: {ex.Message}";
            return false;
        }
        for (var i = 0; i < _seen.Length; i++)
        {
            if (!_seen[i])
            {
                error = $"Input '{_inputs[i].Name}' is missing.";
                return false;
            }
        }
        error = null;
        return true;
    }

    private int IndexOf(ref Utf8JsonReader reader)
    {
        for (var i = 0; i < _inputs.Count; i++)
        {
            if (reader.ValueTextEquals(_inputs[i].Name))
            {
                return i;
            }
        }
        return -1;
    }

    private bool ReadTensor(ref Utf8JsonReader reader, RowBatch batch, int input, int depth, ref int element, out string? error)
    {
        var spec = _inputs[input];
        var shape = spec.RowShape;
        if (depth == shape.Length)
        {
            if (reader.TokenType is JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False)
            {
                if (batch.TrySet(input, element, reader.ValueSpan))
                {
                    element++;
                    error = null;
                    return true;
                }
                error = $"Input '{spec.Name}': {Encoding.UTF8.GetString(reader.ValueSpan)} is not a valid {spec.Datatype} value.";
                return false;
            }
            error = $"Input '{spec.Name}': expected a number, found {Describe(reader.TokenType)} (row shape {Format(shape)}).";
            return false;
        }
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            error = $"Input '{spec.Name}': expected an array of {shape[depth]} at nesting level {depth + 1}, found {Describe(reader.TokenType)} (row shape {Format(shape)}).";
            return false;
        }
        long count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (count == shape[depth])
            {
                error = $"Input '{spec.Name}': more than {shape[depth]} values at nesting level {depth + 1} (row shape {Format(shape)}).";
                return false;
            }
            if (!ReadTensor(ref reader, batch, input, depth + 1, ref element, out error))
            {
                return false;
            }
            count++;
        }
        if (count != shape[depth])
        {
            error = $"Input '{spec.Name}': expected {shape[depth]} values at nesting level {depth + 1}, found {count} (row shape {Format(shape)}).";
            return false;
        }
        error = null;
        return true;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.String => "a string",
        JsonTokenType.Null => "null",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        _ => token.ToString(),
    };

    internal static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
