using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Inference.Artifacts;

/// <summary>Where a scorer keeps the artifacts it fetched, and how much disk they may take (bound from <c>ArtifactCacheOptions</c>).</summary>
public sealed class ArtifactCacheOptions
{
    public const string SectionName = "ArtifactCacheOptions";

    /// <summary>The cache folder. Default: <c>artifacts</c> under <c>Storage:DataDir</c>, else under the temp folder.</summary>
    [Required]
    public string Directory { get; set; } = "";

    /// <summary>
    /// Most bytes of artifacts kept on disk. Past it the least recently used artifacts are deleted, never one in use (loaded, being
    /// fetched or being opened); in-use artifacts alone may exceed it. Default 10 GiB (ten of the largest models the registry takes).
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long MaxBytes { get; set; } = 10L << 30;
}
