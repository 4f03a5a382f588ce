using System.Globalization;

namespace MlPlatform.Bench;

/// <summary>What the gateway process costs per proxied request, and how long its threads waited for a core meanwhile (idle cost subtracted from both).</summary>
/// <param name="CpuMicroseconds">CPU time of the whole process (<c>/proc/{pid}/stat</c>): every thread, including those that exited during the run.</param>
/// <param name="RunQueueMicroseconds">Time runnable but waiting for a core (schedstat) of the threads alive at the end of the run: a lower bound.</param>
/// <param name="IdleCpuMsPerSecond">CPU time of the whole process per second with no requests (<c>/proc/{pid}/stat</c>).</param>
public sealed record HopCost(long Requests, double CpuMicroseconds, double RunQueueMicroseconds, double P50Ms, double IdleCpuMsPerSecond);

/// <summary>One thread's scheduler counters (<c>/proc/{pid}/task/{tid}/schedstat</c>): nanoseconds on a CPU, and runnable but waiting for one.</summary>
public readonly record struct ThreadSchedule(string Name, long CpuNs, long WaitNs);

/// <summary>Linux CPU accounting of whole processes: <c>/proc/{pid}/stat</c> for their CPU time, schedstat of each live thread for where it went and for run-queue waits.</summary>
public static class ProcessSchedule
{
    /// <summary>The processes started with <c>ASPNETCORE_URLS</c> = <paramref name="url"/> (the app host gives each service its own port; a launcher may share the environment).</summary>
    public static IReadOnlyList<int> FindByUrl(string url)
    {
        var found = new List<int>();
        // One endpoint is ASPNETCORE_URLS; with several (the scorer's and gateway's gRPC endpoints) Aspire sets Kestrel__Endpoints__<name>__Url.
        var wanted = url.TrimEnd('/');
        bool Matches(string e) => e == "ASPNETCORE_URLS=" + wanted
            || (e.StartsWith("Kestrel__Endpoints__", StringComparison.Ordinal) && e.EndsWith("__Url=" + wanted, StringComparison.Ordinal));
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var environment = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (environment.Any(Matches))
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    /// <summary>The scheduler counters of every live thread of the processes, by thread id.</summary>
    public static Dictionary<int, ThreadSchedule> ReadThreads(IReadOnlyList<int> pids)
    {
        var threads = new Dictionary<int, ThreadSchedule>();
        foreach (var task in pids.SelectMany(pid => Directory.Exists($"/proc/{pid}/task") ? Directory.EnumerateDirectories($"/proc/{pid}/task") : []))
        {
            try
            {
                var fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = new ThreadSchedule(File.ReadAllText(Path.Combine(task, "comm")).Trim(),
                    long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
            }
        }
        return threads;
    }

    /// <summary>
    /// What each thread alive at <paramref name="after"/> spent since <paramref name="before"/> (all of its time if it started in between).
    /// Threads that exited in between are missing, with their time: sums are lower bounds (see <see cref="ReadCpuMs"/> for CPU time that keeps it).
    /// </summary>
    public static IEnumerable<ThreadSchedule> Since(IReadOnlyDictionary<int, ThreadSchedule> before, IReadOnlyDictionary<int, ThreadSchedule> after) =>
        after.Select(t => before.TryGetValue(t.Key, out var then)
            ? t.Value with { CpuNs = t.Value.CpuNs - then.CpuNs, WaitNs = t.Value.WaitNs - then.WaitNs }
            : t.Value);

    /// <summary>CPU time of whole processes in ms (<c>/proc/{pid}/stat</c> utime + stime, which, unlike schedstat, keeps the time of threads that have exited).</summary>
    public static double ReadCpuMs(IReadOnlyList<int> pids)
    {
        double ticks = 0;
        foreach (var pid in pids)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return ticks * 10.0; // USER_HZ is 100 on Linux
    }
}
