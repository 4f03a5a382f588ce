using System.ComponentModel.DataAnnotations;

namespace MlPlatform.BatchScorer.Profiles;

/// <summary>Drift references computed from a job's input (section <c>Reference</c>).</summary>
public sealed class ReferenceOptions
{
    public const string SectionName = "Reference";

    /// <summary>The most input rows one reference profile reads (the job's first ones); bounds the memory and time of one request. Default 100000.</summary>
    [Range(10, 10_000_000)]
    public int MaxRows { get; set; } = 100_000;

    /// <summary>The largest body of <c>POST .../reference</c> (a <c>{"jobId"}</c> object); a longer one is a 413. Default 4096.</summary>
    [Range(64, 1_048_576)]
    public int MaxRequestBytes { get; set; } = 4096;
}
