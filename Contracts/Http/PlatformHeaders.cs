namespace MlPlatform.Contracts;

/// <summary>
/// Headers between platform services. The gateway strips every header starting with <see cref="InternalPrefix"/> that a client sends,
/// then sets <see cref="Actor"/>, <see cref="Role"/> and <see cref="InternalKey"/> itself; the services trust them only with the key.
/// </summary>
public static class PlatformHeaders
{
    /// <summary>Prefix of every platform-internal header; never accepted from outside the platform.</summary>
    public const string InternalPrefix = "X-MlPlatform-";

    /// <summary>Who is calling (the API key's id), as the gateway authenticated it.</summary>
    public const string Actor = InternalPrefix + "Actor";

    /// <summary>The caller's role (<c>reader</c>, <c>operator</c>, <c>admin</c>…).</summary>
    public const string Role = InternalPrefix + "Role";

    /// <summary>The internal credential proving a request came through the gateway or another platform service.</summary>
    public const string InternalKey = InternalPrefix + "Internal-Key";
}
