using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Gateway.Sessions;

/// <summary>
/// Console sessions (section <c>Sessions</c>): an API key exchanged once at <c>POST /v1/session</c> for an <c>HttpOnly</c> cookie
/// that the gateway authenticates as that key. Held in the gateway's memory, bounded, and lost when the gateway restarts.
/// </summary>
public sealed class SessionOptions
{
    public const string SectionName = "Sessions";

    /// <summary>A session unused for this long ends. Default 30 minutes.</summary>
    [Range(1, 24 * 60)]
    public int IdleTimeoutMinutes { get; set; } = 30;

    /// <summary>A session ends this long after sign-in however busy it is. Default 8 hours.</summary>
    [Range(1, 7 * 24)]
    public int AbsoluteTimeoutHours { get; set; } = 8;

    /// <summary>Sessions held at once, all keys together; a sign-in beyond it is refused with 503. Default 10000.</summary>
    [Range(1, 1_000_000)]
    public int MaxSessions { get; set; } = 10_000;

    /// <summary>Sessions one API key holds at once; a further sign-in with that key ends its oldest session. Default 20.</summary>
    [Range(1, 10_000)]
    public int MaxSessionsPerKey { get; set; } = 20;

    /// <summary>
    /// Whether the cookie carries <c>Secure</c>: <c>SameAsRequest</c> (default: when the request came over TLS) or <c>Always</c>
    /// (behind an ingress that terminates TLS and forwards plain HTTP).
    /// </summary>
    [Required]
    [RegularExpression("^(SameAsRequest|Always)$", ErrorMessage = "Sessions:SecureCookie is SameAsRequest or Always.")]
    public string SecureCookie { get; set; } = "SameAsRequest";
}
