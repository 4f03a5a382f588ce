namespace MlPlatform.BatchScorer.Input;

/// <summary>Turns one input line into one row of a <see cref="RowBatch"/>. Instances hold scratch state: one per chunk in flight.</summary>
public interface IRowParser
{
    /// <summary>Writes the row held by <paramref name="line"/> at slot <see cref="RowBatch.Count"/> (the caller commits it).</summary>
    /// <returns>False with a message for the client when the row cannot be scored.</returns>
    bool TryParse(ReadOnlySpan<byte> line, RowBatch batch, out string? error);
}

public static class RowParsers
{
    /// <summary>The parser for a job's input format and model inputs.</summary>
    /// <exception cref="InputRejectedException">The input cannot be mapped onto the model's inputs at all.</exception>
    public static IRowParser Create(string format, IReadOnlyList<Jobs.RowInput> inputs, IReadOnlyList<string>? csvHeader) => format switch
    {
        Jobs.InputFormat.Jsonl => new JsonlRowParser(inputs),
        Jobs.InputFormat.Csv => new CsvRowParser(inputs, csvHeader),
        _ => throw new InputRejectedException($"Unknown input format '{format}'; use 'jsonl' or 'csv'."),
    };
}
