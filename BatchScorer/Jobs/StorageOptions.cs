using System.ComponentModel.DataAnnotations;

namespace MlPlatform.BatchScorer.Jobs;

/// <summary>Where job inputs, manifests and chunk results live: a folder every replica shares (<c>Storage__DataDir</c>).</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>The shared data folder. Required; the AppHost passes the platform's <c>batch</c> sub-folder.</summary>
    [Required]
    public string DataDir { get; set; } = "";
}
