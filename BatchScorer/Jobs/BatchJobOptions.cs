using System.ComponentModel.DataAnnotations;

namespace MlPlatform.BatchScorer.Jobs;

/// <summary>Limits on what a job may submit. Enforced at submission with a 400/413 problem.</summary>
public sealed class BatchJobOptions : IValidatableObject
{
    public const string SectionName = "BatchJobOptions";

    /// <summary>Largest input (inline or uploaded file), in bytes. Default 2 GiB.</summary>
    [Range(1024L, long.MaxValue)]
    public long MaxInputBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Largest inline <c>input.data</c> in a JSON spec, in bytes (a JSON body is held in memory; files are streamed). Default 16 MiB.</summary>
    [Range(1024L, 256L * 1024 * 1024)]
    public long MaxInlineBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Largest <c>spec</c> part of a multipart submission, in bytes (it is read into memory); larger gets 413. Default 64 KiB.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxSpecBytes { get; set; } = 64 * 1024;

    /// <summary>Days a finished job (succeeded, failed or cancelled) and its files are kept after it finished; then both are removed. Default 7.</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 7;

    /// <summary>Minutes a job folder without a manifest (an upload that was cut off) may go unwritten before it is removed. Default 60.</summary>
    [Range(5, 7 * 24 * 60)]
    public int AbandonedUploadMinutes { get; set; } = 60;

    /// <summary>Most rows a job may hold. Default 10,000,000.</summary>
    [Range(1L, 1_000_000_000L)]
    public long MaxRows { get; set; } = 10_000_000;

    /// <summary>Longest single input line, in bytes. Default 1 MiB.</summary>
    [Range(64, 64 * 1024 * 1024)]
    public int MaxRowBytes { get; set; } = 1024 * 1024;

    /// <summary>Rows per chunk when the spec names none. Default 1,000.</summary>
    [Range(1, 1_000_000)]
    public int DefaultChunkSize { get; set; } = 1000;

    /// <summary>Smallest chunk a spec may ask for. Default 10.</summary>
    [Range(1, 1_000_000)]
    public int MinChunkSize { get; set; } = 10;

    /// <summary>Largest chunk a spec may ask for. Default 100,000.</summary>
    [Range(1, 1_000_000)]
    public int MaxChunkSize { get; set; } = 100_000;

    /// <summary>Most chunks one job may be split into (each is one stream message and one result file). Default 100,000.</summary>
    [Range(1, 10_000_000)]
    public int MaxChunks { get; set; } = 100_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MinChunkSize > DefaultChunkSize || DefaultChunkSize > MaxChunkSize)
        {
            yield return new ValidationResult(
                $"Chunk sizes must satisfy MinChunkSize ({MinChunkSize}) <= DefaultChunkSize ({DefaultChunkSize}) <= MaxChunkSize ({MaxChunkSize}).",
                [nameof(MinChunkSize), nameof(DefaultChunkSize), nameof(MaxChunkSize)]);
        }
        if (MaxInlineBytes > MaxInputBytes)
        {
            yield return new ValidationResult("MaxInlineBytes must not exceed MaxInputBytes.", [nameof(MaxInlineBytes)]);
        }
    }
}
