using System.Globalization;

namespace MlPlatform.Bench.Hostile;

/// <summary>
/// CPU time by process over a phase, from <c>/proc/&lt;pid&gt;/stat</c> (utime + stime) and <c>/proc/stat</c>: this bench (the load
/// generator), the platform's services started from this repository, its Redis (found by the platform's data folder on its command
/// line), and the rest of the machine (other engineers' work), so a report shows who used the two cores while it was measured.
/// </summary>
internal sealed class CpuAccount
{
    public static readonly string[] Groups = ["bench", "gateway", "scorer", "registry", "batch", "redis", "rest of machine"];

    private static readonly double TicksPerSecond = 100; // USER_HZ, 100 on Linux x86-64 and arm64
    private readonly Dictionary<int, (string Group, long Ticks)> _processes = [];
    private long _machineBusy;

    /// <summary>CPU seconds of each group between two snapshots.</summary>
    public static Dictionary<string, double> Between(CpuAccount start, CpuAccount end)
    {
        var seconds = Groups.ToDictionary(g => g, _ => 0.0);
        foreach (var (pid, (group, ticks)) in end._processes)
        {
            var before = start._processes.TryGetValue(pid, out var s) && s.Group == group ? s.Ticks : 0;
            seconds[group] += (ticks - before) / TicksPerSecond;
        }
        var machine = (end._machineBusy - start._machineBusy) / TicksPerSecond;
        seconds["rest of machine"] = Math.Max(0, machine - seconds.Where(g => g.Key != "rest of machine").Sum(g => g.Value));
        return seconds;
    }

    public static CpuAccount Take(string root, string? platformDir)
    {
        var account = new CpuAccount();
        if (!File.Exists("/proc/stat"))
        {
            return account;
        }
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
        account._machineBusy = cpu.Take(8).Sum() - cpu[3] - cpu[4];
        var self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                var group = pid == self ? "bench" : GroupOf(cmdline, CurrentDirectory(dir), root, platformDir);
                if (group is null)
                {
                    continue;
                }
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // Fields after the command name (which may hold spaces): state is the first, utime the 12th, stime the 13th.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                account._processes[pid] = (group, long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The process ended between the listing and the read.
            }
        }
        return account;
    }

    private static string? GroupOf(string cmdline, string? cwd, string root, string? platformDir)
    {
        if (cmdline.Contains("redis-server", StringComparison.Ordinal))
        {
            // redis-server rewrites its command line to "redis-server host:port"; it runs in its --dir, under the platform's folder.
            return platformDir is not null && cwd is not null && cwd.StartsWith(platformDir, StringComparison.Ordinal) ? "redis" : null;
        }
        foreach (var (project, group) in new[] { ("Gateway", "gateway"), ("OnlineScorer", "scorer"), ("ModelRegistry", "registry"), ("BatchScorer", "batch") })
        {
            if (cmdline.Contains(Path.Combine(root, project) + "/", StringComparison.Ordinal))
            {
                return group;
            }
        }
        return null;
    }

    private static string? CurrentDirectory(string procDir)
    {
        try
        {
            return new DirectoryInfo(Path.Combine(procDir, "cwd")).LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The repository root of this build (bench/HostileBench/bin/Release/net10.0/ → five levels up).</summary>
    public static string RepositoryRoot() => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
}
