using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Gateway.Forwarding;

/// <summary>
/// How the gateway lets a backend refuse a large request before its body is sent (section <c>EarlyAnswers</c>; docs/gateway.md): a request
/// whose body is larger than <see cref="MinBodyBytes"/> (or of unknown length) is forwarded with <c>Expect: 100-continue</c>, so a backend
/// answering at once (the scorer's 503 for its memory budget, a 404 for an unknown model, a 413) is passed on as it is, instead of the
/// HTTP/1.1 race in which the proxy is still sending the body to a backend that has answered and closed, and the client gets a 502.
/// </summary>
public sealed class EarlyAnswerOptions
{
    public const string SectionName = "EarlyAnswers";

    /// <summary>Bodies larger than this (bytes), or of unknown length, wait for the backend's go-ahead. Default 65536.</summary>
    [Range(1025, long.MaxValue)]
    public long MinBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Whether a body the gateway has already received in full (it fits Kestrel's request buffer and the client sent it at once) goes
    /// to the backend without waiting for the go-ahead: written from memory, it cannot race the backend's early answer, and the wait
    /// would cost the hop a round trip. False makes every body over <see cref="MinBodyBytes"/> wait (to measure that round trip). Default true.
    /// </summary>
    public bool SendReceivedBodyAtOnce { get; set; } = true;

    /// <summary>
    /// How long the gateway waits for that go-ahead before it sends the body anyway. The backends are Kestrel, which sends it as soon as
    /// the handler reads the body, so the wait ends early in practice; it must outlast a backend that is slow to decide (a model load).
    /// Default 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ContinueTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After a refusal made without the body, how much of the body an HTTP/1.1 client that did not ask for <c>100-continue</c> may still send
    /// (read and dropped, at the route's least data rate) so that it reads the answer; beyond it the connection is closed. Kestrel alone
    /// gives it five seconds, which a loaded machine or a slow link does not meet. Default 64 MiB.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MaxDrainBytes { get; set; } = 64L << 20;
}
