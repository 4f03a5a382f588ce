using System.Diagnostics;

namespace MlPlatform.Bench;

/// <summary>
/// Runs a loop unrecorded until the JIT of the measured processes has settled. .NET compiles a method quickly first and again,
/// optimised (with profile data), once it is hot (tiered compilation), on a background thread (<c>.NET Tiered Com</c>). A profile of
/// the gateway under a steady c1 load on this machine found that thread at 1.1 s of CPU in the first 15 s of load, after the bench's
/// 12 s platform warm-up, and near zero from then on: a hop measured before that is partly the gateway's JIT, which a gateway that has
/// served for a minute no longer pays, while the bare forwarder (far less code) has settled long before.
/// </summary>
public static class JitSettling
{
    /// <summary>The name Linux shows for the runtime's tiered compilation thread (the first 15 characters of its name).</summary>
    private const string TieredCompilationThread = ".NET Tiered Com";

    /// <summary>
    /// Runs <paramref name="targets"/> interleaved, one second at a time, until the tiered compilation threads of <paramref name="pids"/>
    /// spent at most <paramref name="settledMsPerSecond"/> of CPU in a second, or <paramref name="limit"/> has passed.
    /// </summary>
    /// <returns>How long it ran and the JIT CPU (ms) of its last second.</returns>
    public static async Task<(TimeSpan Ran, double LastJitMs)> WarmAsync(IReadOnlyList<int> pids, TimeSpan limit, double settledMsPerSecond,
        params (string Scenario, Func<CancellationToken, Task<bool>> Send)[] targets)
    {
        var clock = Stopwatch.StartNew();
        var lastJitMs = double.NaN;
        while (clock.Elapsed < limit)
        {
            var before = ProcessSchedule.ReadThreads(pids);
            await LoadRunner.RunInterleavedAsync(TimeSpan.Zero, TimeSpan.FromSeconds(1), targets);
            // A compilation thread that exited in between (it does when idle) is missing with its time: it was idle at the end.
            lastJitMs = ProcessSchedule.Since(before, ProcessSchedule.ReadThreads(pids))
                .Where(t => t.Name.StartsWith(TieredCompilationThread, StringComparison.Ordinal)).Sum(t => t.CpuNs) / 1e6;
            if (lastJitMs <= settledMsPerSecond)
            {
                break;
            }
        }
        return (clock.Elapsed, lastJitMs);
    }
}
