using MlPlatform.BatchScorer.Jobs;

namespace MlPlatform.BatchScorer.Input;

/// <summary>
/// Column buffers for up to <see cref="Capacity"/> rows, one per model input, in the input's element type, laid out row-major
/// exactly as the batched tensor: a parser writes row <c>slot</c> and the scorer hands the first <see cref="Count"/> rows to ONNX Runtime.
/// </summary>
public sealed class RowBatch
{
    public RowBatch(IReadOnlyList<RowInput> inputs, int capacity)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Inputs = inputs;
        Capacity = capacity;
        Buffers = new Array[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var length = capacity * inputs[i].ElementCount;
            Buffers[i] = inputs[i].Datatype switch
            {
                "FP32" => new float[length],
                "FP64" => new double[length],
                "INT32" => new int[length],
                "INT64" => new long[length],
                "BOOL" => new bool[length],
                var other => throw new NotSupportedException($"Batch jobs do not take {other} inputs."),
            };
        }
    }

    /// <summary>Datatypes a row may carry.</summary>
    public static bool IsSupported(string datatype) => datatype is "FP32" or "FP64" or "INT32" or "INT64" or "BOOL";

    public IReadOnlyList<RowInput> Inputs { get; }

    public int Capacity { get; }

    /// <summary>Rows written so far.</summary>
    public int Count { get; private set; }

    /// <summary>One array per input (<c>float[]</c>, <c>double[]</c>, <c>int[]</c>, <c>long[]</c> or <c>bool[]</c>).</summary>
    public Array[] Buffers { get; }

    public bool IsFull => Count == Capacity;

    /// <summary>Keeps the row just written at slot <see cref="Count"/>.</summary>
    public void Commit() => Count++;

    public void Clear() => Count = 0;

    /// <summary>Stores a number at element <paramref name="element"/> of the current row of input <paramref name="input"/>.</summary>
    /// <returns>False when the value does not fit the input's type.</returns>
    public bool TrySet(int input, int element, ReadOnlySpan<byte> utf8Number)
    {
        var index = Count * Inputs[input].ElementCount + element;
        switch (Buffers[input])
        {
            case float[] f:
                return NumberParsing.TryParseSingle(utf8Number, out f[index]);
            case double[] d:
                return NumberParsing.TryParseDouble(utf8Number, out d[index]);
            case int[] i:
                return NumberParsing.TryParseInt32(utf8Number, out i[index]);
            case long[] l:
                return NumberParsing.TryParseInt64(utf8Number, out l[index]);
            case bool[] b:
                return NumberParsing.TryParseBoolean(utf8Number, out b[index]);
            default:
                return false;
        }
    }
}
