namespace Microsoft.Extensions.Hosting;

/// <summary>Names of the platform's own meters and activity sources, registered once here so the dashboard shows them.</summary>
public static class PlatformTelemetry
{
    /// <summary>Every platform meter starts with this prefix (<c>MlPlatform.Inference</c>, <c>MlPlatform.Batch</c>).</summary>
    public const string MeterNamePattern = "MlPlatform.*";

    /// <summary>Every platform activity source starts with this prefix.</summary>
    public const string ActivitySourceNamePattern = "MlPlatform.*";

    public const string InferenceMeter = "MlPlatform.Inference";
    public const string BatchMeter = "MlPlatform.Batch";
    public const string QualityMeter = "MlPlatform.Quality";
}
