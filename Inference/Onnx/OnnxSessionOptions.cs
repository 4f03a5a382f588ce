using System.ComponentModel.DataAnnotations;
using Microsoft.ML.OnnxRuntime;

namespace MlPlatform.Inference.Onnx;

/// <summary>How sessions are opened (bound from <c>OnnxSessionOptions</c>).</summary>
public sealed class OnnxSessionOptions
{
    public const string SectionName = "OnnxSessionOptions";

    /// <summary>Threads one <c>Run</c> may use inside an operator. Default 1: a server runs many requests (or batches) at once, and per-request parallelism only adds contention on small machines. 0 lets ONNX Runtime choose (one per core).</summary>
    [Range(0, 256)]
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>Threads for running independent graph nodes in parallel. Default 1 (sequential execution).</summary>
    [Range(0, 256)]
    public int InterOpThreads { get; set; } = 1;

    /// <summary>
    /// Whether ONNX Runtime's intra- and inter-op pool threads spin while waiting for work. Default false: spinning buys microseconds
    /// on an idle machine but, with more than one thread, burns the cores the HTTP pipeline and other processes need (measured on the
    /// 2-core benchmark machine under load: 295 vs 596 images/s at IntraOpThreads=2). Irrelevant at the default of one thread per run.
    /// </summary>
    public bool AllowSpinning { get; set; }

    /// <summary>Graph optimisation level. Default <see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/>.</summary>
    public GraphOptimizationLevel GraphOptimizationLevel { get; set; } = GraphOptimizationLevel.ORT_ENABLE_ALL;
}
