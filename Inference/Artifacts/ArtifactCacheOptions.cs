using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Inference.Artifacts;

/// <summary>Where a scorer keeps the artifacts it fetched (bound from <c>ArtifactCacheOptions</c>).</summary>
public sealed class ArtifactCacheOptions
{
    public const string SectionName = "ArtifactCacheOptions";

    /// <summary>The cache folder. Default: <c>artifacts</c> under <c>Storage:DataDir</c>, else under the temp folder.</summary>
    [Required]
    public string Directory { get; set; } = "";
}
