using System.Globalization;
using System.Text;

namespace MlPlatform.Bench;

/// <summary>
/// The issue's target ratios, judged on interleaved rounds: each round measures every scenario a ratio needs (in-process ONNX Runtime,
/// the hand-written endpoint, the gateway batching on and off) one after the other, and the ratios compare the medians over the rounds,
/// so a tenant that comes or goes on a shared machine moves both sides of a ratio alike instead of one.
/// </summary>
public static class TargetRounds
{
    public const string InProcess = "in-process Run, batch 1";
    public const string HandWritten16 = "hand-written endpoint, JSON, c16";
    public const string GatewayJson16 = "gateway, batching on, JSON, c16";
    public const string GatewayBinary16 = "gateway, batching on, binary, c16";
    public const string GatewayJson8On = "gateway, batching on, JSON, c8";
    public const string GatewayJson8Off = "gateway, batching off, JSON, c8";
    public const string GatewayJson8Delay = "gateway, batching on with a 1 ms max queue delay, JSON, c8";

    /// <summary>Runs <paramref name="rounds"/> rounds of <paramref name="scenarios"/>, recording each run as "name, round r".</summary>
    public static async Task<List<Measurement>> RunAsync(int rounds, IReadOnlyList<(string Name, Func<string, Task<Measurement>> Measure)> scenarios,
        Action<Measurement> record)
    {
        var runs = new List<Measurement>();
        for (var round = 1; round <= rounds; round++)
        {
            Console.WriteLine($"[online] target rounds: round {round} of {rounds}");
            // The order flips every other round, so no scenario always runs right after the same one.
            var order = round % 2 == 1 ? scenarios : scenarios.Reverse().ToList();
            foreach (var (name, measure) in order)
            {
                var m = await measure($"{name}, round {round}");
                record(m);
                runs.Add(m);
            }
        }
        return runs;
    }

    /// <summary>The targets section: per scenario the median over the rounds, then each target ratio with met yes/no.</summary>
    public static string Render(IReadOnlyList<Measurement> runs, bool large, IReadOnlyList<Measurement> all)
    {
        var sb = new StringBuilder();
        var rounds = runs.Count == 0 ? 0 : runs.Max(r => int.Parse(r.Scenario[(r.Scenario.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        sb.AppendLine(CultureInfo.InvariantCulture, $"## Targets ({(large ? "issue 20, large-input model" : "small model: issue 4's, which issue 20 keeps")}): medians of {rounds} interleaved rounds");
        sb.AppendLine("| scenario | median images/s | median p50 ms | median p99 ms |");
        sb.AppendLine("|---|---:|---:|---:|");
        double Median(string name, Func<Measurement, double> of)
        {
            var values = runs.Where(r => r.Scenario.StartsWith(name + ", round ", StringComparison.Ordinal)).Select(of).Order().ToArray();
            return values.Length == 0 ? double.NaN : values.Length % 2 == 1 ? values[values.Length / 2] : (values[values.Length / 2 - 1] + values[values.Length / 2]) / 2;
        }
        foreach (var name in new[] { InProcess, HandWritten16, GatewayJson16, GatewayBinary16, GatewayJson8On, GatewayJson8Off, GatewayJson8Delay })
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {Median(name, m => m.Throughput):F1} | {Median(name, m => m.P50Ms):F3} | {Median(name, m => m.P99Ms):F3} |");
        }
        sb.AppendLine();
        sb.AppendLine("| target | value | target | met |");
        sb.AppendLine("|---|---:|---:|---|");
        void Row(string what, double value, double target, bool higherIsBetter = true, string unit = "x")
        {
            var met = double.IsNaN(value) ? "n/a" : (higherIsBetter ? value >= target : value <= target) ? "yes" : "**no**";
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {what} | {value:F2}{unit} | {(higherIsBetter ? ">=" : "<=")} {target}{unit} | {met} |");
        }
        var tput = (string name) => Median(name, m => m.Throughput);
        Row("gateway c16 (batching on, JSON) / hand-written endpoint c16", tput(GatewayJson16) / tput(HandWritten16), large ? 3.5 : 2.0);
        Row("gateway c16 (batching on, JSON) / in-process batch 1", tput(GatewayJson16) / tput(InProcess), large ? 1.0 : 0.6);
        Row("gateway c16 (batching on, binary) / in-process batch 1", tput(GatewayBinary16) / tput(InProcess), large ? 1.5 : 1.0);
        Row("batching on / off, gateway JSON c8 (throughput)", tput(GatewayJson8On) / tput(GatewayJson8Off), 1.8);
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"| (info) batching on with a 1 ms max queue delay / off, gateway JSON c8 (throughput; p99 {Median(GatewayJson8Delay, m => m.P99Ms):F1} vs {Median(GatewayJson8Off, m => m.P99Ms):F1} ms) | {tput(GatewayJson8Delay) / tput(GatewayJson8Off):F2}x | | |");
        Measurement? Find(string scenario) => all.FirstOrDefault(m => m.Scenario == scenario);
        foreach (var encoding in new[] { "JSON", "binary" })
        {
            var direct = Find($"hop pair: scorer direct, batching off, {encoding}");
            var gateway = Find($"hop pair: gateway, batching off, {encoding}");
            var bare = Find($"hop pair: bare YARP forwarder, batching off, {encoding}");
            // A hop at or below zero is noise (a loaded machine): no ratio is read from it.
            var (gatewayHop, bareHop) = (gateway?.P50Ms - direct?.P50Ms ?? double.NaN, bare?.P50Ms - direct?.P50Ms ?? double.NaN);
            Row($"gateway hop p50 / bare YARP hop p50, c1 {encoding} (hop = proxied p50 - direct p50, one interleaved loop; {gatewayHop:F3} / {bareHop:F3} ms)",
                gatewayHop > 0 && bareHop > 0 ? gatewayHop / bareHop : double.NaN, 1.25, higherIsBetter: false);
        }
        var json = Find("scorer alone pair: JSON, batching off");
        var binary = Find("scorer alone pair: binary, batching off");
        Row("scorer alone, c1: JSON p50 - binary p50 (paired)", json?.P50Ms - binary?.P50Ms ?? double.NaN, 0.5, higherIsBetter: false, unit: " ms");
        sb.AppendLine();
        return sb.ToString();
    }
}
