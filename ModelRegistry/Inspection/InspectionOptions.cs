using System.ComponentModel.DataAnnotations;

namespace MlPlatform.ModelRegistry.Inspection;

public sealed class InspectionOptions
{
    public const string SectionName = "Inspection";

    /// <summary>Wall-clock limit for opening one model, in seconds; a slower file is refused. Default 60.</summary>
    [Range(1, 3600)]
    public int TimeoutSeconds { get; set; } = 60;

    /// <summary>Resident memory the inspection process may use, in MiB; it is killed and the file refused above it. Default 4096.</summary>
    [Range(128, 1 << 20)]
    public int MaxMemoryMegabytes { get; set; } = 4096;

    /// <summary>Inspections that may run at once (each is a process). Default 2.</summary>
    [Range(1, 64)]
    public int MaxConcurrent { get; set; } = 2;

    /// <summary>CPU time the inspection process may use, in seconds (the kernel's <c>RLIMIT_CPU</c>, counted over all its threads). Default 60.</summary>
    [Range(1, 3600)]
    public int MaxCpuSeconds { get; set; } = 60;

    /// <summary>Largest report the inspection process may write (its JSON signature), in bytes; it is killed and the file refused above it. Default 1 MiB.</summary>
    [Range(4096, 64 * 1024 * 1024)]
    public int MaxReportBytes { get; set; } = 1024 * 1024;

    /// <summary>Run the inspection process without network (<c>unshare --net</c>) where the machine allows it (root, or user namespaces). Default true.</summary>
    public bool IsolateNetwork { get; set; } = true;
}
