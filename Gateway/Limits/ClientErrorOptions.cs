using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// The client-error budget of each reader and operator key: a key whose requests got <see cref="MaxErrors"/> client errors (4xx but
/// 401, 403, 408 and 429) within <see cref="Window"/> is refused at the gateway for <see cref="CoolDown"/>: 429 + <c>Retry-After</c>,
/// answered before the body is read and before anything is forwarded. Malformed bodies and unknown models cost the backends work to
/// refuse; a key that sends nothing else should not get that work at the rate its token bucket allows. The bodies of a key's refused
/// requests are drained for it up to <see cref="MaxDrainedBytes"/> per window. Admin keys are exempt.
/// </summary>
public sealed class ClientErrorOptions
{
    public const string SectionName = "ClientErrors";

    /// <summary>
    /// On by default: every key below admin is treated as hostile (docs/security.md). A client's occasional bad request still gets its
    /// own answer (400 with the V2 message, 404, 413): the budget only counts them until a key reaches <see cref="MaxErrors"/>. Turn it
    /// off only where every key is held by a party you trust to send errors at will (the integration tests whose point is that the
    /// guard and rollouts ignore a flood of client errors do).
    /// </summary>
    public bool Enabled { get; set; } = true;

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

    /// <summary>
    /// Bytes of refused request bodies (a 4xx answered before the body was read: a 413 for a declared length, a backend's early 404)
    /// the gateway reads and drops for one key within <see cref="Window"/>, so that its clients read their answer instead of a reset
    /// (<c>EarlyAnswers:MaxDrainBytes</c> bounds each body). Past it, a refused body of that key is not read: the answer goes out with
    /// <c>Connection: close</c> and the connection is closed after it. A key sending only over-limit bodies stays under
    /// <see cref="MaxErrors"/> (six 40 MB bodies a second are 60 errors in 10 s) yet had ~0.5 cores of the gateway spent draining them.
    /// 0 drains nothing. Default 256 MiB (about 25 MiB/s).
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MaxDrainedBytes { get; set; } = 256L << 20;
}
