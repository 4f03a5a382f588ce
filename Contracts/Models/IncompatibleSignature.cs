namespace MlPlatform.Contracts;

/// <summary>
/// The RFC 7807 body (<c>application/problem+json</c>, 409) of the contract check: moving <c>production</c> or starting a rollout to a
/// version whose signature would break requests the current production version accepts. <see cref="Differences"/> lists each break
/// (<c>input 'x' removed</c>, <c>input 'x' datatype changed from FP32 to INT64</c>…); sending <c>"force": true</c> moves it anyway, and the alias
/// history records the move with <see cref="AliasChange.Forced"/> and the same differences.
/// </summary>
public sealed record IncompatibleSignatureProblem(string Title, int Status, string Detail, int ProductionVersion, IReadOnlyList<string> Differences)
{
    /// <summary>The problem's <c>title</c>, the same for every contract-check refusal.</summary>
    public const string TitleText = "Incompatible signature";
}
