using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// The client-error budget of each reader and operator key: a key whose requests got <see cref="MaxErrors"/> client errors (4xx but
/// 401, 403, 408 and 429) within <see cref="Window"/> is refused at the gateway for <see cref="CoolDown"/>: 429 + <c>Retry-After</c>,
/// answered before the body is read and before anything is forwarded. Malformed bodies and unknown models cost the backends work to
/// refuse; a key that sends nothing else should not get that work at the rate its token bucket allows. Admin keys are exempt.
/// </summary>
public sealed class ClientErrorOptions
{
    public const string SectionName = "ClientErrors";

    /// <summary>
    /// Off by default: a client debugging its requests, or a test aiming malformed requests at a canary on purpose, expects each of
    /// them answered 400, as V2 servers do. Turn it on where keys below admin are held by parties you do not control (the hostile
    /// bench runs with it on; docs/security.md).
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>Client errors one key may get within <see cref="Window"/>; the one that reaches it starts the cool-down. Default 200.</summary>
    [Range(1, 1_000_000)]
    public int MaxErrors { get; set; } = 200;

    /// <summary>The window the errors are counted in (fixed windows, starting at a key's first error). Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a key over its budget is refused. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan CoolDown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a refusal in the cool-down is held before it is sent (never past the cool-down's end), so a client that ignores
    /// <c>Retry-After</c> and asks again at once asks about once per this delay per connection instead of as fast as the gateway
    /// answers. 0 sends refusals at once. Default 1 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RefusalDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Refusals of one key held at once; past it the key's further refusals are sent at once (each holds a request open). Default 64.</summary>
    [Range(0, 10_000)]
    public int MaxHeldRefusals { get; set; } = 64;
}
