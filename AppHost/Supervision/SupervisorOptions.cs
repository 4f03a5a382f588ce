using System.ComponentModel.DataAnnotations;

namespace MlPlatform.AppHost.Supervision;

/// <summary>
/// How the AppHost restarts services that exit on their own on the one-machine run (section <c>Platform:Supervisor</c>).
/// Publish mode has no supervisor: Kubernetes restarts pods there.
/// </summary>
public sealed class SupervisorOptions
{
    public const string SectionName = "Platform:Supervisor";

    /// <summary>Restart services that exit without being asked to. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Wait before the first restart; doubled for each further restart. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait before a restart. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Running this long without exiting resets the backoff to <see cref="InitialBackoff"/>. Default 2 min.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ResetAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Restarts allowed within <see cref="RestartWindow"/>; the next exit leaves the service stopped and marked failed. Default 5.</summary>
    [Range(1, 1000)]
    public int MaxRestarts { get; set; } = 5;

    /// <summary>The window <see cref="MaxRestarts"/> counts over. Default 10 min.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RestartWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Crash and restart events kept in the AppHost while Redis cannot take them (the oldest are dropped beyond). Default 1000.</summary>
    [Range(1, 100_000)]
    public int EventBufferSize { get; set; } = 1000;

    /// <summary>Add the registry alert rule <c>service-crash-loop</c> (kind <c>service-crash-loop</c>: fires when a service has crashed more than <see cref="MaxRestarts"/> times within <see cref="RestartWindow"/>). Default true.</summary>
    public bool CrashLoopAlert { get; set; } = true;
}
