using System.ComponentModel.DataAnnotations;

namespace MlPlatform.OnlineScorer.Shadow;

/// <summary>How the scorer runs copies of production requests on the <c>shadow</c> alias (section <c>Shadow</c>).</summary>
public sealed class ShadowOptions
{
    public const string SectionName = "Shadow";

    /// <summary>Copies waiting for the shadow version; a copy that finds the queue full is dropped and counted (<c>queue_full</c>). Default 256.</summary>
    [Range(1, 100_000)]
    public int QueueCapacity { get; set; } = 256;

    /// <summary>Shadow copies run at once (production requests are never limited by it). Default 1.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 1;

    /// <summary>
    /// Production requests in flight on the scorer (REST and gRPC infer calls, <see cref="Serving.InFlightBudget.Requests"/>) at which a
    /// copy may still start; with more, it waits. Default 0: a copy starts only while no production request is in flight, so it only
    /// ever takes CPU production left idle. Raise it on a machine with cores production does not use.
    /// </summary>
    [Range(0, 1024)]
    public int MaxProductionInFlight { get; set; }

    /// <summary>
    /// How long after its production request was answered a copy may wait for production to leave room; one that has not started by
    /// then is dropped and counted (<c>busy</c>). Default 5000.
    /// </summary>
    [Range(1, 3_600_000)]
    public int MaxWaitMilliseconds { get; set; } = 5000;
}
