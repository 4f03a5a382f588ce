using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Gateway.Limits;

/// <summary>Limits on request heads, enforced by Kestrel before any middleware runs (431 or 414 without a body, since no route is known yet).</summary>
public sealed class HeaderLimitOptions
{
    public const string SectionName = "HeaderLimits";

    /// <summary>Total size of all request headers, in bytes. Default 32 KiB.</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxTotalSize { get; set; } = 32 * 1024;

    /// <summary>Number of request headers. Default 100.</summary>
    [Range(1, 1000)]
    public int MaxCount { get; set; } = 100;

    /// <summary>Size of the request line (method, path and query), in bytes. Default 8 KiB.</summary>
    [Range(256, 64 * 1024)]
    public int MaxRequestLineSize { get; set; } = 8 * 1024;
}
