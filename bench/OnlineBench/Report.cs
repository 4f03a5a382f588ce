using System.Globalization;
using System.Text;

namespace MlPlatform.Bench;

/// <summary>Renders bench/results/online.md: the machine, every measurement, and the ratios the issue sets targets for.</summary>
public static class Report
{
    public static string Render(string machine, IReadOnlyList<Measurement> results, double seconds, HopCost? hopCost,
        IReadOnlyDictionary<(string Scenario, int Concurrency), double> batchRows, double maxQueueDelayMs, string? modelDescription = null,
        int[]? concurrencies = null, string? targets = null, string? bodies = null)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Online scorer benchmark");
        sb.AppendLine();
        sb.AppendLine("Written by `dotnet run -c Release --project bench/OnlineBench` (bench/OnlineBench/Program.cs). Every number below comes from one run on one machine;");
        sb.AppendLine(modelDescription is null
            ? "the load generator, the gateway, the scorer, the registry and Redis share its cores. Model: `models/online/conv.onnx`\n"
              + "(3 conv layers 16/32/64 channels + a 4096x2048 dense layer (32 MB of weights) + a 2048x10 one + softmax, FP32 [N,3,32,32] -> [N,10];\n"
              + "see tools/build_online_models.py for why the dense head), one image per request unless stated."
            : $"the load generator, the gateway, the scorer, the registry and Redis share its cores (`--large`). Model: {modelDescription}; one image per request unless stated.");
        sb.AppendLine($"Closed loop: each of `c` workers sends the next request when the previous one returns; 1 s warm-up, {seconds.ToString(CultureInfo.InvariantCulture)} s measured");
        sb.AppendLine("(the platform is first warmed for 12 s on both models). The gateway hop is measured by one client cycling request by request through the scorer");
        sb.AppendLine("directly, the gateway, YARP's bare direct forwarder (its own process) and the same forwarder sending bodies over 64 KiB with `Expect: 100-continue`");
        sb.AppendLine($"as the gateway does (`EarlyAnswers:MinBodyBytes`); {bodies ?? "request bodies as above"}.");
        sb.AppendLine(FormattableString.Invariant($"Throughput counts images per second. Batching on = dynamic batching (max 32 rows, max queue delay {maxQueueDelayMs} ms); off = one Run per request."));
        sb.AppendLine();
        sb.AppendLine("## Machine");
        sb.AppendLine(machine);
        if (targets is not null)
        {
            sb.Append(targets);
        }
        sb.AppendLine("## Measurements");
        sb.AppendLine("| scenario | concurrency | images/s | p50 ms | p99 ms | requests | errors |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var m in results)
        {
            sb.AppendLine(FormattableString.Invariant($"| {m.Scenario} | {m.Concurrency} | {m.Throughput:F1} | {m.P50Ms:F3} | {m.P99Ms:F3} | {m.Requests} | {m.Errors} |"));
        }
        sb.AppendLine();

        Measurement? Find(string scenario, int c) => results.FirstOrDefault(m => m.Scenario == scenario && m.Concurrency == c);
        Measurement? Best(string scenario, int c) =>
            new[] { Find(scenario, c), Find(scenario + " (repeat)", c) }.Where(m => m is not null).MaxBy(m => m!.Throughput);
        // Baselines: the better of the run before and the run after the platform measurements (other tenants come and go).
        var single = Best("in-process Run, batch 1", 1);
        var naive16 = Best("hand-written endpoint, JSON", 16);
        sb.AppendLine(modelDescription is null ? "## Ratios from the single runs above (issue 4's targets; judged on the interleaved rounds when present)" : "## Ratios from the single runs above (issue 20's targets; judged on the interleaved rounds when present)");
        sb.AppendLine("| ratio | value | target | met |");
        sb.AppendLine("|---|---:|---:|---|");
        void Ratio(string what, double? value, double target, bool higherIsBetter = true, string unit = "x")
        {
            if (value is not { } v || double.IsNaN(v))
            {
                sb.AppendLine($"| {what} | n/a | {target} | n/a |");
                return;
            }
            var met = higherIsBetter ? v >= target : v <= target;
            var targetText = higherIsBetter ? $">= {target.ToString(CultureInfo.InvariantCulture)}{unit}" : $"<= {target.ToString(CultureInfo.InvariantCulture)}{unit}";
            sb.AppendLine(FormattableString.Invariant($"| {what} | {v:F2}{unit} | {targetText} | {(met ? "yes" : "**no**")} |"));
        }
        var gwJson16 = Find("gateway, batching on, JSON", 16);
        var gwBin16 = Find("gateway, batching on, binary", 16);
        // The large-input model's targets are issue 20's; the small model's are issue 4's.
        var isLarge = modelDescription is not null;
        Ratio("gateway c16 (batching on, JSON) / hand-written endpoint c16", gwJson16?.Throughput / naive16?.Throughput, isLarge ? 3.5 : 2.0);
        Ratio("gateway c16 (batching on, JSON) / in-process batch 1", gwJson16?.Throughput / single?.Throughput, isLarge ? 1.0 : 0.6);
        Ratio("gateway c16 (batching on, binary) / in-process batch 1", gwBin16?.Throughput / single?.Throughput, isLarge ? 1.5 : 1.0);
        foreach (var encoding in new[] { "JSON", "binary" })
        {
            foreach (var c in (concurrencies ?? [1, 8, 16, 64]).Where(c => c > 1))
            {
                var on = Find($"gateway, batching on, {encoding}", c);
                var off = Find($"gateway, batching off, {encoding}", c);
                Ratio($"batching on / off, gateway {encoding} c{c} (throughput)", on?.Throughput / off?.Throughput, 1.8);
                Ratio($"batching on / off, gateway {encoding} c{c} (p99, lower is better)", on?.P99Ms / off?.P99Ms, 1.0, higherIsBetter: false);
            }
        }
        foreach (var encoding in new[] { "JSON", "binary" })
        {
            var gw = Find($"hop pair: gateway, batching off, {encoding}", 1);
            var direct = Find($"hop pair: scorer direct, batching off, {encoding}", 1);
            Ratio($"gateway hop at p50, c1 {encoding} (paired: gateway p50 - direct p50)", gw?.P50Ms - direct?.P50Ms, 0.25, higherIsBetter: false, unit: " ms");
        }
        var pairJson = Find("scorer alone pair: JSON, batching off", 1);
        var pairBinary = Find("scorer alone pair: binary, batching off", 1);
        Ratio("scorer alone, c1 (paired: JSON p50 - binary p50)", pairJson?.P50Ms - pairBinary?.P50Ms, 0.5, higherIsBetter: false, unit: " ms");
        foreach (var encoding in new[] { "JSON", "binary" })
        {
            var bare = Find($"hop pair: bare YARP forwarder, batching off, {encoding}", 1);
            var direct = Find($"hop pair: scorer direct, batching off, {encoding}", 1);
            sb.AppendLine(FormattableString.Invariant($"| bare YARP forwarder hop at p50, c1 {encoding} (interleaved; the floor of any proxy hop on this machine) | {bare?.P50Ms - direct?.P50Ms:F2} ms | (info) | |"));
            var expect = Find($"hop pair: bare YARP forwarder, Expect: 100-continue over 64 KiB, batching off, {encoding}", 1);
            sb.AppendLine(FormattableString.Invariant($"| what `Expect: 100-continue` costs the hop at p50, c1 {encoding} (bare YARP with it - without it, interleaved; 0 for bodies up to 64 KiB) | {expect?.P50Ms - bare?.P50Ms:F3} ms | (info) | |"));
            var gw = Find($"hop pair: gateway, batching off, {encoding}", 1);
            var gwDirect = Find($"hop pair: scorer direct, batching off, {encoding}", 1);
            sb.AppendLine(FormattableString.Invariant($"| gateway hop / bare YARP hop at p50, c1 {encoding} (issue 20 target <= 1.25x) | {(gw?.P50Ms - gwDirect?.P50Ms) / (bare?.P50Ms - direct?.P50Ms):F2}x | (info) | |"));
        }
        // Without the gateway: how much of the target the scorer alone reaches, and so what the gateway's share of the cores costs.
        var directJson16 = Find("scorer direct, batching on, JSON", 16);
        sb.AppendLine(FormattableString.Invariant($"| scorer direct c16 (batching on, JSON) / hand-written endpoint c16 | {directJson16?.Throughput / naive16?.Throughput:F2}x | (info) | |"));
        var naiveDefault16 = Best("hand-written endpoint, JSON, ORT default session options", 16);
        sb.AppendLine(FormattableString.Invariant($"| gateway c16 (batching on, JSON) / hand-written endpoint c16 with ORT's default session options | {gwJson16?.Throughput / naiveDefault16?.Throughput:F2}x | (info) | |"));
        foreach (var encoding in new[] { "JSON", "binary" })
        {
            var gw = Find($"gateway, batching off, {encoding}", 1);
            var direct = Find($"scorer direct, batching off, {encoding}", 1);
            sb.AppendLine(FormattableString.Invariant($"| gateway hop at p50, c1 {encoding}, from the separate c1 runs (minutes apart) | {gw?.P50Ms - direct?.P50Ms:F2} ms | (info) | |"));
        }
        if (hopCost is { } cost)
        {
            sb.AppendLine(FormattableString.Invariant($"| gateway process per proxied request (binary, c1, {cost.Requests} requests, idle cost subtracted): on CPU (/proc/pid/stat: every thread, including those that exited during the run) | {cost.CpuMicroseconds / 1000:F3} ms | (info) | |"));
            sb.AppendLine(FormattableString.Invariant($"| gateway process per proxied request: runnable but waiting for a core (schedstat of the threads alive at the end of the run: a lower bound) | {cost.RunQueueMicroseconds / 1000:F3} ms | (info) | |"));
            sb.AppendLine(FormattableString.Invariant($"| gateway process idle (no requests): CPU per second (/proc/pid/stat), subtracted above | {cost.IdleCpuMsPerSecond:F1} ms/s | (info) | |"));
        }
        foreach (var rows in new[] { 8, 32 })
        {
            var batched = Best($"in-process Run, batch {rows}", 1);
            sb.AppendLine(FormattableString.Invariant($"| in-process batch {rows} / batch 1 (images/s; the most batching can gain on this CPU) | {batched?.Throughput / single?.Throughput:F2}x | (info) | |"));
        }
        foreach (var c in new[] { 1, 8, 16, 64 })
        {
            var gw = Find("gateway, batching on, binary", c);
            sb.AppendLine(FormattableString.Invariant($"| gateway (batching on, binary) c{c} / in-process batch 1 | {gw?.Throughput / single?.Throughput:F2}x | (info) | |"));
        }
        sb.AppendLine();
        sb.AppendLine("## Batch sizes (from the scorer's `mlplatform.inference.batch.size` histogram: rows of the run that served a request, mean over requests)");
        sb.AppendLine("| scenario | concurrency | mean rows per run |");
        sb.AppendLine("|---|---:|---:|");
        foreach (var ((scenario, c), rows) in batchRows)
        {
            sb.AppendLine(FormattableString.Invariant($"| {scenario} | {c} | {rows:F1} |"));
        }
        sb.AppendLine();
        return sb.ToString();
    }
}
