using System.Text.Json.Serialization;

namespace MlPlatform.Contracts;

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
    bool Archived)
{
    /// <summary>When the version was archived; absent while it is not.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? ArchivedAt { get; init; }

    /// <summary>The key id that archived it; absent while it is not archived, and for versions archived before it was recorded.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ArchivedBy { get; init; }

    /// <summary>Why it was archived (the archive request's <c>reason</c>); absent when none was given.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ArchiveReason { get; init; }
}

/// <summary>A model with all its versions (ascending) and the aliases that point into them (<c>GET /v1/models/{name}</c>).</summary>
public sealed record ModelDetails(
    string Name,
    DateTimeOffset CreatedAt,
    int LatestVersion,
    IReadOnlyList<ModelVersion> Versions,
    IReadOnlyList<AliasInfo> Aliases)
{
    /// <summary>The alias named <paramref name="alias"/>, or null.</summary>
    public AliasInfo? FindAlias(string alias) => Aliases.FirstOrDefault(a => a.Name == alias);

    /// <summary>The version numbered <paramref name="version"/>, or null.</summary>
    public ModelVersion? FindVersion(int version) => Versions.FirstOrDefault(v => v.Version == version);
}

/// <summary>Caller-editable metadata of a version (<c>PATCH /v1/models/{name}/versions/{version}</c>); null leaves a field unchanged.</summary>
public sealed record VersionPatch(string? Description, Dictionary<string, string>? Tags);
