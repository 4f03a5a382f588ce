using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// Named request timeouts that routes select with <c>TimeoutPolicy</c>. A request still running when its timeout ends is answered 504.
/// The timeout covers the whole exchange, body upload and response streaming included.
/// </summary>
public sealed class TimeoutOptions
{
    public const string SectionName = "Timeouts";

    public const string InferencePolicy = "inference";
    public const string DefaultPolicy = "default";
    public const string UploadPolicy = "upload";
    public const string DownloadPolicy = "download";
    public const string StreamPolicy = "stream";

    /// <summary>V2 inference and metadata. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan Inference { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Small reads and writes (registry metadata, aliases, job status). Default 100 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan Default { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Model uploads and batch job submissions. Default 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan Upload { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Artifact downloads and batch results. Default 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan Download { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A gRPC <c>ModelStreamInfer</c> stream, from open to close. Default 10 min.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan Stream { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Every policy by name.</summary>
    public IReadOnlyDictionary<string, TimeSpan> Policies => new Dictionary<string, TimeSpan>(StringComparer.OrdinalIgnoreCase)
    {
        [InferencePolicy] = Inference,
        [DefaultPolicy] = Default,
        [UploadPolicy] = Upload,
        [DownloadPolicy] = Download,
        [StreamPolicy] = Stream,
    };

    public TimeSpan? For(string policy) => Policies.TryGetValue(policy, out var timeout) ? timeout : null;
}
