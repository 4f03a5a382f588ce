using System.Globalization;

namespace MlPlatform.Bench;

/// <summary>What the gateway process costs per proxied request, and how long its threads waited for a core meanwhile.</summary>
public sealed record HopCost(long Requests, double CpuMicroseconds, double RunQueueMicroseconds, double P50Ms, double IdleCpuMsPerSecond);

/// <summary>Linux scheduler statistics of a whole process (every thread's <c>/proc/{pid}/task/{tid}/schedstat</c>).</summary>
public static class ProcessSchedule
{
    /// <summary>The processes started with <c>ASPNETCORE_URLS</c> = <paramref name="url"/> (the app host gives each service its own port; a launcher may share the environment).</summary>
    public static IReadOnlyList<int> FindByUrl(string url)
    {
        var found = new List<int>();
        var wanted = "ASPNETCORE_URLS=" + url.TrimEnd('/');
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var environment = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (environment.Any(e => e == wanted))
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

    /// <summary>Nanoseconds on a CPU per thread name (<c>comm</c>), to see which threads a cost lands on.</summary>
    public static Dictionary<string, long> ReadByThreadName(IReadOnlyList<int> pids)
    {
        var byName = new Dictionary<string, long>();
        foreach (var task in pids.SelectMany(pid => Directory.Exists($"/proc/{pid}/task") ? Directory.EnumerateDirectories($"/proc/{pid}/task") : []))
        {
            try
            {
                var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                var cpu = long.Parse(File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ')[0], CultureInfo.InvariantCulture);
                byName[name] = byName.GetValueOrDefault(name) + cpu;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
            }
        }
        return byName;
    }

    /// <summary>Nanoseconds on a CPU and nanoseconds runnable but waiting for one, summed over the processes' threads.</summary>
    public static (long CpuNs, long WaitNs) Read(IReadOnlyList<int> pids)
    {
        long cpu = 0, wait = 0;
        foreach (var task in pids.SelectMany(pid => Directory.Exists($"/proc/{pid}/task") ? Directory.EnumerateDirectories($"/proc/{pid}/task") : []))
        {
            try
            {
                var fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                cpu += long.Parse(fields[0], CultureInfo.InvariantCulture);
                wait += long.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
            }
        }
        return (cpu, wait);
    }

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
