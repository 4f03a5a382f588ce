using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MlPlatform.Inference.Artifacts;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Registry;

namespace MlPlatform.Inference;

/// <summary>Registration of the inference core shared by the scorers.</summary>
public static class InferenceServiceCollectionExtensions
{
    /// <summary>
    /// Registers the inference core: <see cref="RegistryClient"/>, <see cref="ArtifactCache"/> (options <c>ArtifactCacheOptions</c>,
    /// folder defaulting to <c>artifacts</c> under <c>Storage:DataDir</c>) and <see cref="OnnxSessionOptions"/>, all validated at start.
    /// </summary>
    public static IHostApplicationBuilder AddInferenceCore(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddRegistryClient();
        builder.Services.AddOptions<ArtifactCacheOptions>()
            .BindConfiguration(ArtifactCacheOptions.SectionName)
            .PostConfigure<IConfiguration>((options, configuration) =>
            {
                if (string.IsNullOrWhiteSpace(options.Directory))
                {
                    var dataDir = configuration["Storage:DataDir"];
                    options.Directory = Path.Combine(
                        string.IsNullOrWhiteSpace(dataDir) ? Path.Combine(Path.GetTempPath(), "mlplatform") : dataDir, "artifacts");
                }
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<OnnxSessionOptions>()
            .BindConfiguration(OnnxSessionOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ArtifactCache>();
        return builder;
    }
}
