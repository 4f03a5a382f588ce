using System.Runtime.InteropServices;

namespace MlPlatform.ModelRegistry.Inspection;

/// <summary>Kernel resource limits the inspection child sets on itself before it opens the file.</summary>
internal static class ProcessLimits
{
    private const int RlimitCpu = 0;

    // The soft limit sends SIGXCPU (which ends the process); the hard limit, a little later, SIGKILL in case SIGXCPU is caught.
    private const ulong HardLimitGraceSeconds = 2;

    /// <summary>Caps the CPU time of this process at <paramref name="seconds"/> (RLIMIT_CPU). No-op off Linux.</summary>
    /// <exception cref="InvalidOperationException">The kernel refused the limit.</exception>
    public static void LimitCpuSeconds(int seconds)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var limit = new RLimit { Current = (ulong)seconds, Maximum = (ulong)seconds + HardLimitGraceSeconds };
        if (SetRLimit(RlimitCpu, ref limit) != 0)
        {
            throw new InvalidOperationException($"setrlimit(RLIMIT_CPU) failed (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static extern int SetRLimit(int resource, ref RLimit limit);
}
