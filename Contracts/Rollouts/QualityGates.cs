using System.Text.Json;
using System.Text.Json.Serialization;

namespace MlPlatform.Contracts;

/// <summary>
/// Quality gates of a rollout or the guard: each one set is judged on the step's window once it holds enough data (the registry's
/// <c>Quality:GateMinLabelled</c> labelled rows on both sides, <c>Quality:GateMinRequests</c> live or compared requests); below that it
/// is <see cref="GateResult.Inconclusive"/> and never holds a step. A failed gate rolls back like an error-rate breach.
/// </summary>
/// <param name="AccuracyDropMax">Largest accuracy drop against the baseline (production, or the version production replaced), 0–1.</param>
/// <param name="DriftPsiMax">Largest input-drift PSI of the version (any feature) in the window.</param>
/// <param name="ShadowAgreementMin">Smallest agreement of the version's shadow answers with production's, 0–1.</param>
public sealed record QualityGates(double? AccuracyDropMax = null, double? DriftPsiMax = null, double? ShadowAgreementMin = null)
{
    public const string AccuracyDrop = "accuracyDropMax";
    public const string DriftPsi = "driftPsiMax";
    public const string ShadowAgreement = "shadowAgreementMin";

    public bool Any => AccuracyDropMax is not null || DriftPsiMax is not null || ShadowAgreementMin is not null;

    /// <summary>
    /// Members of a request's <c>gates</c> that name no gate, kept only so the registry can refuse them naming the member (a misspelt
    /// gate silently ignored would let a rollout run unguarded); null when there are none, so nothing extra is ever written back.
    /// </summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }
}

/// <summary>
/// One quality gate's judgement in an analysis: <see cref="Result"/> is <c>pass</c>, <c>fail</c> or <c>inconclusive</c>; the measured
/// <see cref="Value"/> (null when too little data), the gate's <see cref="Threshold"/>, the rows or requests it was measured on, and a sentence.
/// </summary>
public sealed record GateResult(string Gate, string Result, double? Value, double Threshold, long Count, string Detail)
{
    public const string Pass = "pass";
    public const string Fail = "fail";
    public const string Inconclusive = "inconclusive";
}
