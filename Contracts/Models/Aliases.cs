namespace MlPlatform.Contracts;

/// <summary>The aliases the platform gives a meaning to.</summary>
public static class AliasNames
{
    /// <summary>The alias a bare model name resolves through.</summary>
    public const string Production = "production";

    /// <summary>The alias that takes a weighted share of a bare model name's traffic (set by hand or by a rollout).</summary>
    public const string Canary = "canary";

    /// <summary>
    /// The alias whose weight (0-100) is the share of production traffic <b>copied</b> to it after the client was answered (unlike
    /// <see cref="Canary"/>, which takes its share over); its answers are logged beside production's, never returned, never judged.
    /// </summary>
    public const string Shadow = "shadow";
}

/// <summary>An alias of a model; <see cref="Weight"/> (0-100) is the share of unversioned traffic it takes from production, null for none.</summary>
public sealed record AliasInfo(string Name, int Version, int? Weight);

/// <summary>
/// Body of <c>PUT /v1/models/{name}/aliases/{alias}</c>. <see cref="Force"/> moves <c>production</c> to a version whose signature is
/// incompatible with the current production version's (409 otherwise); the move is recorded as forced with the differences.
/// </summary>
public sealed record SetAliasRequest(int? Version, string? Reason, int? Weight, bool? Force = null);

/// <summary>Body of <c>POST /v1/models/{name}/rollback</c>.</summary>
public sealed record RollbackRequest(string? Reason);

/// <summary>One recorded change of an alias. <see cref="Kind"/> is <c>set</c>, <c>deleted</c> or <c>rollback</c>.</summary>
public sealed record AliasChange(
    string Alias,
    int? FromVersion,
    int? ToVersion,
    int? Weight,
    DateTimeOffset At,
    string Actor,
    string? Role,
    string Reason,
    string Kind)
{
    /// <summary>True when the move was forced past the contract check (<c>"force": true</c>); absent otherwise.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public bool? Forced { get; init; }

    /// <summary>The signature differences a forced move was made over; absent otherwise.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Differences { get; init; }

    public const string KindSet = "set";
    public const string KindDeleted = "deleted";
    public const string KindRollback = "rollback";
}
