namespace MlPlatform.ModelRegistry.Model;

/// <summary>
/// One immutable version of a model: its artifact's hash and size, and the signature ONNX Runtime read from it.
/// <see cref="CreatedBy"/> is the key id that registered it (null for versions registered before it was recorded, and for the demo seed).
/// </summary>
public sealed record ModelVersion(
    string Name,
    int Version,
    string Sha256,
    long SizeBytes,
    ModelSignature Signature,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    string? Description,
    IReadOnlyDictionary<string, string> Tags,
    bool Archived);

/// <summary>A model with all its versions (ascending) and the aliases that point into them.</summary>
public sealed record ModelDetails(
    string Name,
    DateTimeOffset CreatedAt,
    int LatestVersion,
    IReadOnlyList<ModelVersion> Versions,
    IReadOnlyList<AliasInfo> Aliases);

/// <summary>The inputs and outputs of a model, as ONNX Runtime reports them.</summary>
public sealed record ModelSignature(IReadOnlyList<TensorSpec> Inputs, IReadOnlyList<TensorSpec> Outputs);

/// <summary>A tensor: its name, V2 datatype (FP32, INT64, BYTES, ...) and shape with -1 for dynamic axes.</summary>
public sealed record TensorSpec(string Name, string Datatype, IReadOnlyList<long> Shape);

/// <summary>Caller-editable metadata of a version; null leaves a field unchanged.</summary>
public sealed record VersionPatch(string? Description, Dictionary<string, string>? Tags);
