using System.Text.Json.Serialization;

namespace MlPlatform.Contracts;

/// <summary>One input or output of a model: name, V2 datatype (FP32, INT64, BYTES, ...) and shape (-1 for a dynamic axis).</summary>
public sealed record TensorSpec(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("shape")] long[] Shape)
{
    /// <summary>The datatype parsed.</summary>
    /// <exception cref="ArgumentException">The registry sent a datatype V2 does not know.</exception>
    [JsonIgnore]
    public TensorDataType DataType => TensorDataTypes.Parse(Datatype);

    /// <summary>Whether <paramref name="shape"/> fits this spec (same rank, equal on every fixed axis).</summary>
    public bool Accepts(ReadOnlySpan<long> shape)
    {
        if (shape.Length != Shape.Length)
        {
            return false;
        }
        for (var i = 0; i < shape.Length; i++)
        {
            if (Shape[i] >= 0 && Shape[i] != shape[i])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The shape as the protocol prints it: <c>[-1,4]</c>.</summary>
    [JsonIgnore]
    public string ShapeText => FormatShape(Shape);

    /// <summary>Formats a shape as <c>[2,4]</c>.</summary>
    public static string FormatShape(ReadOnlySpan<long> shape) => "[" + string.Join(',', shape.ToArray()) + "]";
}

/// <summary>A model's inputs and outputs, as ONNX Runtime reports them and the registry records them.</summary>
public sealed record ModelSignature(
    [property: JsonPropertyName("inputs")] IReadOnlyList<TensorSpec> Inputs,
    [property: JsonPropertyName("outputs")] IReadOnlyList<TensorSpec> Outputs)
{
    /// <summary>The input named <paramref name="name"/>, or null.</summary>
    public TensorSpec? FindInput(string name)
    {
        foreach (var input in Inputs)
        {
            if (input.Name == name)
            {
                return input;
            }
        }
        return null;
    }

    /// <summary>The output named <paramref name="name"/>, or null.</summary>
    public TensorSpec? FindOutput(string name)
    {
        foreach (var output in Outputs)
        {
            if (output.Name == name)
            {
                return output;
            }
        }
        return null;
    }

    /// <summary>Whether every input and output has a dynamic first axis, so requests can be stacked along it.</summary>
    [JsonIgnore]
    public bool IsBatchable =>
        Inputs.Count > 0 &&
        Inputs.All(i => i.Shape.Length > 0 && i.Shape[0] < 0) &&
        Outputs.All(o => o.Shape.Length > 0 && o.Shape[0] < 0);

    /// <summary>Lists the inputs as <c>name (FP32 [-1,4])</c> for error messages.</summary>
    public string DescribeInputs() => string.Join(", ", Inputs.Select(i => $"{i.Name} ({i.Datatype} {i.ShapeText})"));
}
