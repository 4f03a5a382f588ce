using MlPlatform.BatchScorer.Input;
using MlPlatform.BatchScorer.Jobs;
using MlPlatform.BatchScorer.Results;
using MlPlatform.Inference.Registry;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.BatchScorer.Scoring;

/// <summary>A model version pinned by a job: the alias is resolved once, at submission.</summary>
public sealed record ResolvedModel(string Name, int Version, string Sha256, string? Alias, IReadOnlyList<RowInput> Inputs, IReadOnlyList<RowOutput> Outputs);

/// <summary>Resolves a job's model reference through the registry and checks that its signature can be scored row by row.</summary>
public sealed class ModelResolver(RegistryClient registry)
{
    /// <exception cref="InputRejectedException">Unknown model, version or alias, or a signature batch jobs cannot feed.</exception>
    /// <exception cref="HttpRequestException">The registry is unreachable.</exception>
    public async Task<ResolvedModel> ResolveAsync(string model, int? version, string? alias, IReadOnlyList<string>? outputs, CancellationToken cancellationToken)
    {
        var found = await registry.GetModelAsync(model, cancellationToken)
            ?? throw new InputRejectedException($"Model '{model}' is not registered.", StatusCodes.Status404NotFound);

        ModelVersion pinned;
        string? resolvedAlias = null;
        if (version is { } v)
        {
            pinned = found.FindVersion(v) ?? throw new InputRejectedException($"Model '{model}' has no version {v}.", StatusCodes.Status404NotFound);
        }
        else
        {
            resolvedAlias = alias ?? AliasNames.Production;
            var target = found.FindAlias(resolvedAlias)
                ?? throw new InputRejectedException($"Model '{model}' has no alias '{resolvedAlias}'; name a version or an existing alias.", StatusCodes.Status404NotFound);
            pinned = found.FindVersion(target.Version)
                ?? throw new InputRejectedException($"Alias '{resolvedAlias}' of model '{model}' points at version {target.Version}, which the registry does not list.", StatusCodes.Status409Conflict);
        }
        if (pinned.Archived)
        {
            throw new InputRejectedException($"Version {pinned.Version} of model '{model}' is archived.", StatusCodes.Status409Conflict);
        }

        return new ResolvedModel(model, pinned.Version, pinned.Sha256, resolvedAlias,
            ToRowInputs(pinned.Signature), ToRowOutputs(pinned.Signature, outputs));
    }

    /// <exception cref="InputRejectedException">An input has no batch axis, a dynamic non-batch axis, or an unsupported datatype.</exception>
    public static IReadOnlyList<RowInput> ToRowInputs(ModelSignature signature)
    {
        var inputs = new List<RowInput>(signature.Inputs.Count);
        foreach (var spec in signature.Inputs)
        {
            if (spec.Shape.Length == 0 || spec.Shape[0] > 0 && spec.Shape[0] != -1)
            {
                throw new InputRejectedException($"Input '{spec.Name}' (shape [{string.Join(", ", spec.Shape)}]) has no dynamic batch axis; batch jobs stack rows along the first axis.");
            }
            var rowShape = spec.Shape[1..];
            if (rowShape.Any(d => d <= 0))
            {
                throw new InputRejectedException($"Input '{spec.Name}' (shape [{string.Join(", ", spec.Shape)}]) has a dynamic axis besides the batch axis; rows of a batch job must all have the same shape.");
            }
            if (!RowBatch.IsSupported(spec.Datatype))
            {
                throw new InputRejectedException($"Input '{spec.Name}' is {spec.Datatype}; batch jobs take FP32, FP64, INT32, INT64 and BOOL inputs.");
            }
            inputs.Add(new RowInput(spec.Name, spec.Datatype, rowShape));
        }
        return inputs;
    }

    /// <exception cref="InputRejectedException">A requested output does not exist or has a type results cannot carry.</exception>
    public static IReadOnlyList<RowOutput> ToRowOutputs(ModelSignature signature, IReadOnlyList<string>? requested)
    {
        var byName = signature.Outputs.ToDictionary(o => o.Name, StringComparer.Ordinal);
        var names = requested is { Count: > 0 } ? requested : signature.Outputs.Select(o => o.Name).ToList();
        var outputs = new List<RowOutput>(names.Count);
        foreach (var name in names.Distinct())
        {
            if (!byName.TryGetValue(name, out var spec))
            {
                throw new InputRejectedException($"The model has no output '{name}'; it has {string.Join(", ", byName.Keys)}.");
            }
            if (!ResultLineWriter.IsSupported(spec.Datatype))
            {
                throw new InputRejectedException($"Output '{name}' is {spec.Datatype}, which batch results cannot carry.");
            }
            outputs.Add(new RowOutput(name, spec.Datatype, spec.Shape.Length == 0 ? [] : spec.Shape[1..]));
        }
        return outputs;
    }
}
