namespace MlPlatform.ModelRegistry.Model;

/// <summary>
/// The contract check at promotion: what in a candidate's signature would break requests that production's signature accepts, or
/// responses its clients read. Every input is required (ONNX has no optional graph inputs a V2 client can omit), so an input added,
/// removed or renamed breaks; so does a datatype change, a rank change, or a fixed dimension that changes or becomes fixed. An axis
/// that becomes dynamic accepts more and is compatible. Outputs may be added; an output removed or retyped breaks. Pure, unit-tested.
/// </summary>
public static class SignatureContract
{
    /// <summary>The differences that make <paramref name="candidate"/> incompatible with <paramref name="production"/>, in signature order; empty when compatible.</summary>
    public static IReadOnlyList<string> Differences(ModelSignature production, ModelSignature candidate)
    {
        ArgumentNullException.ThrowIfNull(production);
        ArgumentNullException.ThrowIfNull(candidate);
        var differences = new List<string>();
        foreach (var input in production.Inputs)
        {
            if (candidate.FindInput(input.Name) is not { } next)
            {
                differences.Add($"input '{input.Name}' removed");
                continue;
            }
            if (next.Datatype != input.Datatype)
            {
                differences.Add($"input '{input.Name}' datatype changed from {input.Datatype} to {next.Datatype}");
            }
            if (!ShapeAccepts(input.Shape, next.Shape))
            {
                differences.Add($"input '{input.Name}' shape changed from {input.ShapeText} to {next.ShapeText}");
            }
        }
        foreach (var input in candidate.Inputs)
        {
            if (production.FindInput(input.Name) is null)
            {
                differences.Add($"input '{input.Name}' ({input.Datatype} {input.ShapeText}) added as required");
            }
        }
        foreach (var output in production.Outputs)
        {
            if (candidate.FindOutput(output.Name) is not { } next)
            {
                differences.Add($"output '{output.Name}' removed");
            }
            else if (next.Datatype != output.Datatype)
            {
                differences.Add($"output '{output.Name}' datatype changed from {output.Datatype} to {next.Datatype}");
            }
        }
        return differences;
    }

    // Every shape the old spec accepted must still be accepted: same rank, and each axis either dynamic now or fixed to the same size.
    private static bool ShapeAccepts(long[] before, long[] after)
    {
        if (before.Length != after.Length)
        {
            return false;
        }
        for (var i = 0; i < before.Length; i++)
        {
            if (after[i] >= 0 && after[i] != before[i])
            {
                return false;
            }
        }
        return true;
    }
}
