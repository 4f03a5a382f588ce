using System.Text;
using MlPlatform.BatchScorer.Jobs;

namespace MlPlatform.BatchScorer.Input;

/// <summary>
/// A CSV row feeds the model in one of two ways, chosen once per job:
/// <list type="bullet">
/// <item>by name: the header names every model input and each input takes one value per row (shape [-1] or [-1, 1]); other columns are ignored;</item>
/// <item>in order: the model has one input and the row's columns fill it in order (shape [-1, k] takes exactly k columns).</item>
/// </list>
/// Fields may be quoted (RFC 4180); surrounding spaces are ignored.
/// </summary>
public sealed class CsvRowParser : IRowParser
{
    private readonly IReadOnlyList<RowInput> _inputs;
    private readonly int[]? _columnOfInput;
    private readonly int _expectedColumns;
    private readonly List<(int Start, int Length)> _fields = new(64);

    /// <exception cref="InputRejectedException">Neither mapping fits the model's inputs and the header.</exception>
    public CsvRowParser(IReadOnlyList<RowInput> inputs, IReadOnlyList<string>? header)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        _inputs = inputs;
        if (header is not null && inputs.All(i => i.ElementCount == 1 && header.Contains(i.Name)))
        {
            _columnOfInput = inputs.Select(i => header.ToList().IndexOf(i.Name)).ToArray();
            _expectedColumns = header.Count;
        }
        else if (inputs.Count == 1)
        {
            _expectedColumns = inputs[0].ElementCount;
            if (header is not null && header.Count != _expectedColumns)
            {
                throw new InputRejectedException(
                    $"The CSV header has {header.Count} columns but input '{inputs[0].Name}' takes {_expectedColumns} values per row.");
            }
        }
        else
        {
            throw new InputRejectedException(
                $"CSV input needs a header naming every model input ({string.Join(", ", inputs.Select(i => i.Name))}), each taking one value per row, " +
                "or a model with a single input whose columns are given in order.");
        }
    }

    /// <summary>A first line is a header when one of its fields is not a number.</summary>
    public static bool LooksLikeHeader(string line) =>
        SplitHeader(line).Any(f => !double.TryParse(f, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)
            && f is not ("true" or "false"));

    /// <summary>The header's column names, unquoted and trimmed.</summary>
    public static IReadOnlyList<string> SplitHeader(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        var fields = new List<(int, int)>();
        Split(bytes, fields);
        return fields.Select(f => Unquote(Encoding.UTF8.GetString(bytes, f.Item1, f.Item2))).ToList();
    }

    public bool TryParse(ReadOnlySpan<byte> line, RowBatch batch, out string? error)
    {
        if (!Split(line, _fields))
        {
            error = "Unterminated quoted field.";
            return false;
        }
        if (_fields.Count != _expectedColumns)
        {
            error = $"Expected {_expectedColumns} columns, found {_fields.Count}.";
            return false;
        }
        if (_columnOfInput is null)
        {
            for (var c = 0; c < _fields.Count; c++)
            {
                var field = Field(line, c);
                if (!batch.TrySet(0, c, field))
                {
                    error = $"Column {c + 1}: '{Encoding.UTF8.GetString(field)}' is not a valid {_inputs[0].Datatype} value.";
                    return false;
                }
            }
        }
        else
        {
            for (var i = 0; i < _columnOfInput.Length; i++)
            {
                var field = Field(line, _columnOfInput[i]);
                if (!batch.TrySet(i, 0, field))
                {
                    error = $"Column '{_inputs[i].Name}': '{Encoding.UTF8.GetString(field)}' is not a valid {_inputs[i].Datatype} value.";
                    return false;
                }
            }
        }
        error = null;
        return true;
    }

    private ReadOnlySpan<byte> Field(ReadOnlySpan<byte> line, int column)
    {
        var (start, length) = _fields[column];
        var field = line.Slice(start, length).Trim(" \t"u8);
        return field.Length >= 2 && field[0] == '"' && field[^1] == '"' ? field[1..^1] : field;
    }

    /// <summary>Records each field's byte range; a quoted field may hold commas. False when a quote is never closed.</summary>
    private static bool Split(ReadOnlySpan<byte> line, List<(int Start, int Length)> fields)
    {
        fields.Clear();
        var start = 0;
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var b = line[i];
            if (b == '"')
            {
                quoted = !quoted;
            }
            else if (b == ',' && !quoted)
            {
                fields.Add((start, i - start));
                start = i + 1;
            }
        }
        fields.Add((start, line.Length - start));
        return !quoted;
    }

    private static string Unquote(string field)
    {
        field = field.Trim();
        return field.Length >= 2 && field[0] == '"' && field[^1] == '"' ? field[1..^1].Replace("\"\"", "\"") : field;
    }
}
