using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace MlPlatform.Bench.Hostile;

/// <summary>The markdown report: the machine, both phases' valid-client figures, the load average during each, the hostile outcomes.</summary>
internal static class Report
{
    public static string Write(Uri gateway, int validClients, Phase quiet, Phase hostile, IReadOnlyList<Phase> rounds, string startLoad)
    {
        var md = new StringBuilder();
        md.AppendLine("# Hostile-load benchmark (issue 16)").AppendLine();
        md.AppendLine("Written by `dotnet run -c Release --project bench/HostileBench` (bench/HostileBench) against a platform started with");
        md.AppendLine("`./platform start` (Release) on the same machine: the load generator, the gateway, the scorer, the registry and Redis share");
        md.AppendLine($"its cores. {validClients} valid reader clients call a tiny model (`models/online/linear-v1.onnx`, FP32 [1,4]) through the gateway");
        md.AppendLine($"in a closed loop with their own key, alone (quiet) and while a second reader key sends hostile traffic, in {rounds.Count / 2} alternating rounds of each (every kind in");
        md.AppendLine("its own loops: 2 malformed-JSON, 2 unknown-model, 2 unknown-version, 1 over-the-size-limit (40 MB), 2 memory-heavy");
        md.AppendLine("(30 MB FP64 JSON, parsed against the in-flight budget), 8 uploads trickled at 1 KB/s, 4 downloads of a 33 MB artifact read");
        md.AppendLine($"at 1 KB/s). Gateway {gateway}. The platform runs with its default configuration (run.sh sets only ports and keys),");
        md.AppendLine("the gateway's client-error budget included (`ClientErrors`, on by default: 200 client errors within 10 s, then 30 s of 429 before anything is read or forwarded,");
        md.AppendLine("each held 1 s; refused bodies drained up to 256 MiB per key and 10 s, then left unread and the connection closed; docs/security.md),");
        md.AppendLine("so most of its requests are refused at the gateway (the outcomes table below). The load generator's own CPU");
        md.AppendLine("is the `bench` column of the CPU table. Where the CPU goes kind by kind: `hostile-profile.md`; the figures before the budget and");
        md.AppendLine("the cheaper generator: `hostile-before-after.md`.").AppendLine();

        md.AppendLine("## Machine");
        md.AppendLine($"- CPU: {Cpu()}, {Environment.ProcessorCount} logical cores; memory {Meminfo()}");
        md.AppendLine($"- OS: {OsName()}; .NET {Environment.Version}");
        md.AppendLine("- **Shared**: other engineers build and test on this machine at the same time; the load average below is the whole");
        md.AppendLine("  machine's, sampled every 2 s during each phase. Figures from a loaded machine compare the two phases, not other runs.");
        md.AppendLine($"- Load average at start (1/5/15 min): {startLoad}");
        if (double.TryParse(startLoad.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var oneMinute) && oneMinute > Environment.ProcessorCount * 0.75)
        {
            md.AppendLine($"- **Loaded machine: a 1-minute load average of {oneMinute:F1} on {Environment.ProcessorCount} cores at start. These figures only show that the bench runs; do not read the targets from them (rerun `bench/run-quiet.sh` on a quiet machine).**");
        }
        md.AppendLine($"- Load average at end (1/5/15 min): {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?")}").AppendLine();

        md.AppendLine("## Valid clients");
        md.AppendLine("| phase | started | seconds | requests | req/s | p50 ms | p99 ms | max ms | errors | load avg 1 min (min / mean / max) | scorer peak RSS |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|");
        foreach (var phase in rounds.Append(quiet).Append(hostile))
        {
            var sorted = phase.ValidLatencies.Order().ToArray();
            var loads = phase.Load.Select(l => l.One).ToArray();
            md.AppendLine(CultureInfo.InvariantCulture, $"| {phase.Name} | {phase.StartedUtc} | {phase.Duration.TotalSeconds:F0} | {sorted.Length} | " +
                $"{sorted.Length / phase.Duration.TotalSeconds:F1} | {Phase.Percentile(sorted, 0.5):F2} | {Phase.Percentile(sorted, 0.99):F2} | " +
                $"{(sorted.Length > 0 ? sorted[^1] : double.NaN):F1} | {phase.ValidErrors.Values.Sum()}{Errors(phase)} | " +
                $"{(loads.Length > 0 ? $"{loads.Min():F1} / {loads.Average():F1} / {loads.Max():F1}" : "-")} | {phase.ScorerPeakRss >> 20} MB |");
        }
        var quietP99 = Phase.Percentile([.. quiet.ValidLatencies.Order()], 0.99);
        var hostileP99 = Phase.Percentile([.. hostile.ValidLatencies.Order()], 0.99);
        md.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"Valid p99 under hostile traffic (all rounds pooled): **{hostileP99 / quietP99:F2}×** the quiet rounds' (target: within 2×: **{(hostileP99 <= 2 * quietP99 ? "met" : "not met")}**); valid errors: **{hostile.ValidErrors.Values.Sum()}** (target 0: **{(hostile.ValidErrors.Values.Sum() == 0 ? "met" : "not met")}**).");
        md.AppendLine();

        CpuTable(md, rounds.Append(quiet).Append(hostile));

        md.AppendLine("## Hostile traffic, by kind and outcome");
        md.AppendLine("| kind | outcome | count |");
        md.AppendLine("|---|---|---:|");
        foreach (var ((kind, outcome), n) in hostile.Hostile.OrderBy(h => h.Key.Kind, StringComparer.Ordinal).ThenBy(h => h.Key.Outcome, StringComparer.Ordinal))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {kind} | {outcome} | {n} |");
        }
        return md.ToString();
    }

    /// <summary>The per-kind profile: each hostile kind alone, what it got back and what it cost each process.</summary>
    public static string WriteProfile(Uri gateway, IReadOnlyList<Phase> phases, string startLoad)
    {
        var md = new StringBuilder();
        md.AppendLine("# Hostile-load benchmark: where the CPU goes, kind by kind (issue 16)").AppendLine();
        md.AppendLine("Written by `bench/HostileBench/run.sh --profile-seconds N --rounds 0` (bench/HostileBench): each hostile kind alone (no valid");
        md.AppendLine($"clients) against a platform started with `./platform start` (Release), gateway {gateway}, then the valid clients alone and");
        md.AppendLine("every kind at once. CPU from `/proc/<pid>/stat` (utime + stime) over each phase, in cores (2.00 = both cores of this machine busy).").AppendLine();
        md.AppendLine($"- CPU: {Cpu()}, {Environment.ProcessorCount} logical cores; .NET {Environment.Version}");
        md.AppendLine($"- Load average at start (1/5/15 min): {startLoad}; at end: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?")}").AppendLine();
        md.AppendLine("## Requests and outcomes");
        md.AppendLine("| phase | seconds | requests/s | outcomes |");
        md.AppendLine("|---|---:|---:|---|");
        foreach (var phase in phases)
        {
            var total = phase.Hostile.Values.Sum() + phase.ValidLatencies.Count;
            var outcomes = string.Join(", ", phase.Hostile.OrderBy(h => h.Key.Outcome, StringComparer.Ordinal).Select(h => $"{h.Key.Kind}: {h.Key.Outcome} ×{h.Value}"));
            md.AppendLine(CultureInfo.InvariantCulture, $"| {phase.Name} | {phase.Duration.TotalSeconds:F0} | {total / phase.Duration.TotalSeconds:F1} | {(phase.ValidLatencies.Count > 0 ? $"valid: 200 ×{phase.ValidLatencies.Count} " : "")}{outcomes} |");
        }
        md.AppendLine();
        CpuTable(md, phases);
        return md.ToString();
    }

    private static void CpuTable(StringBuilder md, IEnumerable<Phase> phases)
    {
        md.AppendLine("## CPU by process (cores used on average; this machine has " + Environment.ProcessorCount + ")");
        md.AppendLine("`bench` is this load generator; `rest of machine` is everything else that ran (other engineers' builds and tests, the AppHost).");
        md.AppendLine();
        md.AppendLine("| phase | " + string.Join(" | ", CpuAccount.Groups) + " | platform total |");
        md.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", CpuAccount.Groups.Length + 1)));
        foreach (var phase in phases)
        {
            var platform = phase.CpuSeconds.Where(g => g.Key is not ("bench" or "rest of machine")).Sum(g => g.Value) / Math.Max(1e-9, phase.Duration.TotalSeconds);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {phase.Name} | {string.Join(" | ", CpuAccount.Groups.Select(phase.CpuCores))} | {platform:F2} |");
        }
        md.AppendLine();
    }

    private static string Errors(Phase phase) =>
        phase.ValidErrors.Count == 0 ? "" : " (" + string.Join(", ", phase.ValidErrors.Select(e => $"{e.Key}: {e.Value}")) + ")";

    private static string Cpu() =>
        File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "?" : "?";

    private static string Meminfo() =>
        File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").First().Split(':')[1].Trim() : "?";

    private static string OsName() =>
        File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?[12..].Trim('"') ?? RuntimeInformation.OSDescription
            : RuntimeInformation.OSDescription;
}
