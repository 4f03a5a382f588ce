using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Gateway.Errors;

/// <summary>
/// How the gateway answers when a route's backend does not accept connections (restarting, draining after SIGTERM, not started yet):
/// 503 with <c>Retry-After</c>, because the request never reached the backend and is safe to send again.
/// </summary>
public sealed class UnavailableBackendOptions
{
    public const string SectionName = "UnavailableBackend";

    /// <summary>Seconds a client should wait before retrying, sent as <c>Retry-After</c>. Default 1.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 1;
}
