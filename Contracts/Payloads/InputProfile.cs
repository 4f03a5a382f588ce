namespace MlPlatform.Contracts;

/// <summary>
/// A version's drift reference: per input feature (each position of a <c>[-1, d]</c> input, or each channel's mean of a larger tensor)
/// the inner bin edges (the reference's deciles) and the reference's share of values in each bin (one more share than edges). Computed by
/// the batch scorer from a succeeded job's input (<see cref="Source"/> <c>batch-job</c>) and stored by the registry
/// (<c>PUT /v1/models/{name}/versions/{v}/reference/profile</c>); live windows are binned with the same edges for the PSI.
/// </summary>
public sealed record InputProfile(string Source, string? JobId, long Rows, long SkippedRows, DateTimeOffset CreatedAt, IReadOnlyList<FeatureProfile> Features)
{
    public const string BatchJob = "batch-job";
}

/// <summary>One feature's reference histogram: <see cref="Edges"/> ascending and distinct, <see cref="Shares"/> summing to 1.</summary>
public sealed record FeatureProfile(string Feature, double[] Edges, double[] Shares);

/// <summary>Body of <c>POST /v1/models/{name}/versions/{v}/reference</c>: the succeeded batch job whose input becomes the version's drift reference.</summary>
public sealed record ReferenceRequest(string? JobId);
