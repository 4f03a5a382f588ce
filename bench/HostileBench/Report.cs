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
        md.AppendLine($"at 1 KB/s). Gateway {gateway}.").AppendLine();

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

        md.AppendLine("## Hostile traffic, by kind and outcome");
        md.AppendLine("| kind | outcome | count |");
        md.AppendLine("|---|---|---:|");
        foreach (var ((kind, outcome), n) in hostile.Hostile.OrderBy(h => h.Key.Kind, StringComparer.Ordinal).ThenBy(h => h.Key.Outcome, StringComparer.Ordinal))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {kind} | {outcome} | {n} |");
        }
        return md.ToString();
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
