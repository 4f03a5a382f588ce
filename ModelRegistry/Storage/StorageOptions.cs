using System.ComponentModel.DataAnnotations;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>Where the registry keeps its state.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>Folder holding <c>registry.db</c> (SQLite, WAL) and <c>blobs/</c>. Required; the AppHost passes the platform's data folder.</summary>
    [Required]
    public string DataDir { get; set; } = "";

    /// <summary>
    /// Days a blob moved to <c>blobs/quarantine/</c> is kept before it is deleted (blobs no database row names: an upload whose
    /// inspection never finished, or every blob of a database that was replaced). Default 30.
    /// </summary>
    [Range(1, 3650)]
    public int QuarantineRetentionDays { get; set; } = 30;

    /// <summary>
    /// Start with a new, empty database although blobs exist, moving them to quarantine. Without it such a start is refused, because
    /// a lost <c>registry.db</c> would otherwise orphan every registered model. Default false; set it once, for that one start.
    /// </summary>
    public bool AdoptOrphanBlobs { get; set; }

    public string DatabasePath => Path.Combine(DataDir, "registry.db");

    public string BlobsDir => Path.Combine(DataDir, "blobs");
}
