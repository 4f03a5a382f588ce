using System.Text.Json.Serialization;

namespace MlPlatform.Contracts;

/// <summary>What <c>POST /v1/models/{name}/feedback</c> did: labels stored (new or replacing one for the same id), and how many name no logged request.</summary>
public sealed record FeedbackResult(int Accepted, int Replaced, int Unknown);

/// <summary>
/// A version's online quality over a window (<c>GET /v1/models/{name}/versions/{v}/quality</c>): logged requests, those with a label,
/// and accuracy (classification) or MAE and RMSE (regression) over the labelled ones (null without any); the same for the baseline.
/// </summary>
public sealed record QualityReport(
    string Model,
    int Version,
    string Window,
    string Task,
    string Output,
    QualityFigures Figures,
    int? BaselineVersion,
    QualityFigures? Baseline);

/// <summary>
/// One version's figures in a window; <see cref="Coverage"/> is labelled ÷ logged (null when nothing was logged). <see cref="Note"/> says
/// why a labelled window has a null metric or rows left out of it (a prediction that is not a finite number, an error beyond a double's
/// range); absent from the JSON when every labelled row was judged, so the figures read before it existed are unchanged.
/// </summary>
public sealed record QualityFigures(int Logged, int Labelled, double? Coverage, double? Accuracy, double? Mae, double? Rmse,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Note = null);

/// <summary>
/// How a shadow version answered the production requests copied to it (<c>GET /v1/models/{name}/versions/{v}/shadow</c>): requests
/// compared (both answered), agreement (classification: same predicted class; null without classification quality settings), mean and
/// max absolute difference over the floating-point outputs both have, shadow failures, and server latency of both sides.
/// </summary>
public sealed record ShadowReport(
    string Model,
    int Version,
    string Window,
    int ProductionVersion,
    int Compared,
    double? Agreement,
    double? MeanAbsDiff,
    double? MaxAbsDiff,
    int ShadowErrors,
    LatencySummary ShadowLatency,
    LatencySummary ProductionLatency);

/// <summary>Server latency percentiles over the compared requests (null without any).</summary>
public sealed record LatencySummary(double? P50Ms, double? P99Ms);

/// <summary>
/// Input drift of a version (<c>GET /v1/models/{name}/versions/{v}/drift</c>): the reference (its source and size: the version's first
/// logged requests), the live requests in the window (the reference's own excluded), the largest PSI and the most drifting features.
/// <see cref="MaxPsi"/> is null while the reference is incomplete or the window holds nothing to compare.
/// </summary>
public sealed record DriftReport(
    string Model,
    int Version,
    string Window,
    string ReferenceSource,
    int ReferenceRecords,
    int LiveRecords,
    double? MaxPsi,
    IReadOnlyList<FeatureDrift> Features);

/// <summary>One input feature's population stability index between the reference and the live window.</summary>
public sealed record FeatureDrift(string Feature, double Psi);
