using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>How long a service may take to stop after SIGTERM, read from the <c>HostOptions</c> section.</summary>
public static class GracefulShutdownExtensions
{
    public const string SectionName = "HostOptions";

    /// <summary>The longest <see cref="HostOptions.ShutdownTimeout"/> accepted; orchestrators kill a pod long before this anyway.</summary>
    public static readonly TimeSpan MaxShutdownTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Binds <see cref="HostOptions"/> (<c>HostOptions:ShutdownTimeout</c>, default 30 s) so each service states in its appsettings.json
    /// how long it needs to drain: Kestrel finishes in-flight requests and background workers hand back their work within it.
    /// The orchestrator's grace period (Kubernetes <c>terminationGracePeriodSeconds</c>) must exceed it; docs/deployment.md lists both.
    /// </summary>
    public static TBuilder ConfigureGracefulShutdown<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<HostOptions>()
            .BindConfiguration(SectionName)
            .Validate(o => o.ShutdownTimeout > TimeSpan.Zero && o.ShutdownTimeout <= MaxShutdownTimeout,
                $"{SectionName}:ShutdownTimeout must be more than 0 and at most {MaxShutdownTimeout}.")
            .ValidateOnStart();
        return builder;
    }
}
