using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// Named request body limits, in bytes, that routes select with the metadata entry <c>BodySizeLimit</c> (no entry: <see cref="Default"/>).
/// A body over its limit is answered 413 before the backend is called when <c>Content-Length</c> says so, and as soon as it is exceeded otherwise.
/// </summary>
public sealed class BodySizeLimitOptions
{
    public const string SectionName = "BodySizeLimits";

    /// <summary>The route metadata key naming the limit.</summary>
    public const string MetadataKey = "BodySizeLimit";

    private const long MiB = 1024 * 1024;

    /// <summary>Routes without a named limit (metadata reads, alias changes). Default 1 MiB.</summary>
    [Range(0, long.MaxValue)]
    public long Default { get; set; } = MiB;

    /// <summary>V2 inference requests, JSON or binary tensors. Default 32 MiB.</summary>
    [Range(0, long.MaxValue)]
    public long Inference { get; set; } = 32 * MiB;

    /// <summary>Model uploads. Default 1 GiB.</summary>
    [Range(0, long.MaxValue)]
    public long Upload { get; set; } = 1024 * MiB;

    /// <summary>Batch job inputs. Default 4 GiB.</summary>
    [Range(0, long.MaxValue)]
    public long Batch { get; set; } = 4096 * MiB;

    /// <summary>
    /// A gRPC <c>ModelStreamInfer</c> stream, all its messages together (each message is also held to the scorer's per-message limit,
    /// <c>InferenceLimits:MaxRequestBodyBytes</c>). Default 1 GiB.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long Stream { get; set; } = 1024 * MiB;

    /// <summary>The limit named <paramref name="name"/> (case-insensitive); null names <see cref="Default"/>; an unknown name returns null.</summary>
    public long? For(string? name) => name?.ToLowerInvariant() switch
    {
        null or "default" => Default,
        "inference" => Inference,
        "upload" => Upload,
        "batch" => Batch,
        "stream" => Stream,
        _ => null,
    };
}

/// <summary>Fails start-up when a route names a body size limit that does not exist, rather than at its first request.</summary>
internal sealed class BodySizeLimitRoutesValidator(IConfiguration configuration) : IValidateOptions<BodySizeLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, BodySizeLimitOptions options)
    {
        var unknown = configuration.GetSection("ReverseProxy:Routes").GetChildren()
            .Select(route => (Route: route.Key, Limit: route[$"Metadata:{BodySizeLimitOptions.MetadataKey}"]))
            .Where(r => r.Limit is not null && options.For(r.Limit) is null)
            .Select(r => $"Route '{r.Route}' names the body size limit '{r.Limit}', which is not one of default, inference, upload, batch, stream.")
            .ToList();
        return unknown.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(unknown);
    }
}
