using System.ComponentModel.DataAnnotations;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>Limits on what a registration may upload.</summary>
public sealed class RegistrationOptions
{
    public const string SectionName = "Registration";

    /// <summary>Largest accepted model file in bytes; larger uploads get 413 before anything is stored. Default 1 GiB; at most 2 GiB - 1 (ONNX's protobuf limit, external data is refused).</summary>
    [Range(1, int.MaxValue)]
    public long MaxArtifactBytes { get; set; } = 1L << 30;

    /// <summary>How long an <c>Idempotency-Key</c> is remembered, in hours. Default 24.</summary>
    [Range(1, 24 * 365)]
    public int IdempotencyKeyHours { get; set; } = 24;
}
