using System.Text.Json.Serialization;

namespace MlPlatform.BatchScorer.Jobs;

/// <summary>Lifecycle of a job; the wire names are lower case.</summary>
public static class JobStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly string[] All = [Queued, Running, Succeeded, Failed, Cancelled];

    public static bool IsTerminal(string status) => status is Succeeded or Failed or Cancelled;
}

public static class InputFormat
{
    public const string Jsonl = "jsonl";
    public const string Csv = "csv";

    public static bool IsKnown(string? format) => format is Jsonl or Csv;
}

/// <summary>The body of <c>POST /v1/batch/jobs</c> (or its <c>spec</c> part in a multipart upload).</summary>
public sealed record JobSpec
{
    /// <summary>Registered model name.</summary>
    public string? Model { get; init; }

    /// <summary>Exact version to pin; exclusive with <see cref="Alias"/>.</summary>
    public int? Version { get; init; }

    /// <summary>Alias resolved at submission (default <c>production</c>).</summary>
    public string? Alias { get; init; }

    public JobInputSpec? Input { get; init; }

    /// <summary>Output names to keep; all of the model's outputs when absent.</summary>
    public IReadOnlyList<string>? Outputs { get; init; }

    /// <summary>Rows per chunk; the configured default when absent.</summary>
    public int? ChunkSize { get; init; }

    /// <summary>Fail the whole job at its first bad row instead of reporting the row's error in the results.</summary>
    public bool FailFast { get; init; }
}

public sealed record JobInputSpec
{
    /// <summary><c>jsonl</c> or <c>csv</c>.</summary>
    public string? Format { get; init; }

    /// <summary>Inline input text; absent when the input is uploaded as the multipart <c>input</c> file.</summary>
    public string? Data { get; init; }
}

/// <summary>A contiguous range of input rows scored as one unit of work (one stream message, one result file).</summary>
/// <param name="Index">Position of the chunk in the job, from 0.</param>
/// <param name="FirstRow">Row number of the chunk's first row.</param>
/// <param name="RowCount">Rows in the chunk.</param>
/// <param name="Offset">Byte offset of the chunk's first line in the stored input.</param>
/// <param name="Length">Bytes from <paramref name="Offset"/> to the end of the chunk's last line.</param>
public sealed record ChunkRange(int Index, long FirstRow, int RowCount, long Offset, long Length)
{
    public long LastRow => FirstRow + RowCount - 1;
}

/// <summary>One model input as a row sees it: the signature's shape without the batch axis.</summary>
public sealed record RowInput(string Name, string Datatype, long[] RowShape)
{
    /// <summary>Values one row holds for this input (1 for a scalar per row).</summary>
    [JsonIgnore]
    public int ElementCount => RowShape.Length == 0 ? 1 : (int)RowShape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>One model output as a row sees it.</summary>
public sealed record RowOutput(string Name, string Datatype, long[] RowShape);

/// <summary>Everything a worker needs to score a job, fsynced in the data folder before the job is accepted; immutable afterwards.</summary>
public sealed record JobManifest
{
    public required string Id { get; init; }
    public required string Model { get; init; }
    public required int Version { get; init; }
    public required string Sha256 { get; init; }
    /// <summary>The alias the version was resolved from, if any.</summary>
    public string? Alias { get; init; }
    public required string Format { get; init; }
    /// <summary>CSV header names, when the input's first line is a header.</summary>
    public IReadOnlyList<string>? CsvHeader { get; init; }
    public required IReadOnlyList<RowInput> Inputs { get; init; }
    public required IReadOnlyList<RowOutput> Outputs { get; init; }
    public required int ChunkSize { get; init; }
    public required long RowsTotal { get; init; }
    public required IReadOnlyList<ChunkRange> Chunks { get; init; }
    public bool FailFast { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>The id of the API key that submitted the job (as the gateway forwards it); null for a platform-internal caller.</summary>
    public string? SubmittedBy { get; init; }
}

/// <summary>The answer to a submission (202).</summary>
public sealed record JobAccepted(string Id, string Status, JobLinks Links);

public sealed record JobLinks(string Self, string Results);

/// <summary>A job as <c>GET /v1/batch/jobs/{id}</c> shows it.</summary>
public sealed record JobView
{
    public required string Id { get; init; }
    public required string Status { get; init; }
    public required string Model { get; init; }
    public required int Version { get; init; }
    public required string Sha256 { get; init; }
    public string? Alias { get; init; }
    public required string Format { get; init; }
    public required long RowsTotal { get; init; }
    public required long RowsDone { get; init; }
    public required long RowsFailed { get; init; }
    public required int ChunksTotal { get; init; }
    public required int ChunksDone { get; init; }
    /// <summary>Rows per second since the job started.</summary>
    public double? RowsPerSecond { get; init; }
    /// <summary>Seconds left at the current rate.</summary>
    public double? EtaSeconds { get; init; }
    public string? Error { get; init; }
    public bool FailFast { get; init; }
    /// <summary>The id of the API key that submitted the job; operators see only their own jobs, admins every job.</summary>
    public string? SubmittedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public required JobLinks Links { get; init; }
}

public sealed record JobPage(int PageIndex, int PageSize, long Count, IReadOnlyList<JobView> Items);
