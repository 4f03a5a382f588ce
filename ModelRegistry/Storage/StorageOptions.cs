using System.ComponentModel.DataAnnotations;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>Where the registry keeps its state.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>Folder holding <c>registry.db</c> (SQLite, WAL) and <c>blobs/</c>. Required; the AppHost passes the platform's data folder.</summary>
    [Required]
    public string DataDir { get; set; } = "";

    public string BlobsDir => Path.Combine(DataDir, "blobs");
}
