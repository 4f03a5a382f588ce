namespace MlPlatform.Gateway.Auth;

/// <summary>
/// The roles an API key can hold, each including the ones below it: <c>reader</c> (inference, metadata and reads),
/// <c>operator</c> (reader + submit and cancel batch jobs), <c>admin</c> (everything).
/// </summary>
public static class GatewayRoles
{
    public const string Reader = "reader";
    public const string Operator = "operator";
    public const string Admin = "admin";

    /// <summary>Every role, weakest first.</summary>
    public static IReadOnlyList<string> All { get; } = [Reader, Operator, Admin];

    public static bool IsKnown(string? role) => role is not null && All.Contains(role, StringComparer.Ordinal);

    /// <summary>The roles allowed through a route that demands <paramref name="required"/>: that role and every stronger one.</summary>
    /// <exception cref="ArgumentException"><paramref name="required"/> is not a role.</exception>
    public static IReadOnlyList<string> Satisfying(string required) => required switch
    {
        Reader => [Reader, Operator, Admin],
        Operator => [Operator, Admin],
        Admin => [Admin],
        _ => throw new ArgumentException($"'{required}' is not a role; roles are {string.Join(", ", All)}.", nameof(required)),
    };
}

/// <summary>
/// Authorization policies named after the role they demand; YARP routes name them in <c>AuthorizationPolicy</c>.
/// Health routes use YARP's built-in <c>Anonymous</c>.
/// </summary>
public static class GatewayPolicies
{
    public const string Reader = GatewayRoles.Reader;
    public const string Operator = GatewayRoles.Operator;
    public const string Admin = GatewayRoles.Admin;

    /// <summary>YARP's reserved policy name for routes that need no key.</summary>
    public const string Anonymous = "Anonymous";
}
