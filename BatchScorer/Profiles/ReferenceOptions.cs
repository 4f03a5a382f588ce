using System.ComponentModel.DataAnnotations;

namespace MlPlatform.BatchScorer.Profiles;

/// <summary>Drift references computed from a job's input (section <c>Reference</c>).</summary>
public sealed class ReferenceOptions
{
    public const string SectionName = "Reference";

    /// <summary>The most input rows one reference profile reads (the job's first ones); bounds the memory and time of one request. Default 100000.</summary>
    [Range(10, 10_000_000)]
    public int MaxRows { get; set; } = 100_000;
}
