using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace MlPlatform.Bench;

/// <summary>The scorer's shadow counters: copies run, and copies dropped because production left no room in time or the queue was full.</summary>
public readonly record struct ShadowCounters(double Copied, double Busy, double QueueFull)
{
    public static ShadowCounters operator -(ShadowCounters after, ShadowCounters before) =>
        new(after.Copied - before.Copied, after.Busy - before.Busy, after.QueueFull - before.QueueFull);
}

/// <summary>
/// Issue 18's bench target: production p99 at c4 through the gateway with a <c>shadow</c> alias at weight 50 (half of production's
/// requests copied to another version after the answer) within 1.1x of the same load without one. Rounds alternate without / with
/// (the order flipping each round) so both see the shared machine alike; the report keeps every run and compares the medians.
/// </summary>
public static class ShadowComparison
{
    public const string Model = "bench-shadowed";
    private const int Concurrency = 4;

    /// <summary>Registers <see cref="Model"/> twice from <paramref name="modelPath"/> (version 1 production, version 2 the shadow's) and waits until it serves.</summary>
    public static async Task SetUpAsync(HttpClient admin, string modelPath)
    {
        for (var i = 0; i < 2; i++)
        {
            using var upload = new ByteArrayContent(await File.ReadAllBytesAsync(modelPath));
            upload.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            (await admin.PostAsync($"/v1/models/{Model}/versions", upload)).EnsureSuccessStatusCode();
        }
        // The scorer copies requests only of a model whose payload log is on (it joins both outputs by id there); at sample rate 0
        // only the copied requests are recorded, so the two sides differ by the shadow traffic alone.
        (await admin.PutAsJsonAsync($"/v1/models/{Model}/serving", new { payloadLog = new { enabled = true, sampleRate = 0.0 } })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"/v1/models/{Model}/aliases/production", new { version = 1, reason = "shadow benchmark" })).EnsureSuccessStatusCode();
        while (!(await admin.GetAsync($"/v2/models/{Model}/ready")).IsSuccessStatusCode)
        {
            await Task.Delay(200);
        }
    }

    /// <summary>The interleaved rounds; <paramref name="copies"/> reads the scorer's shadow counters.</summary>
    public static async Task<List<(Measurement Run, ShadowCounters Copies)>> RunAsync(HttpClient admin, int rounds, TimeSpan warmup,
        TimeSpan duration, Func<CancellationToken, Task<bool>> send, Func<Task<ShadowCounters>> copies, Action<Measurement> record)
    {
        var runs = new List<(Measurement, ShadowCounters)>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var withShadow in round % 2 == 1 ? new[] { false, true } : [true, false])
            {
                if (withShadow)
                {
                    (await admin.PutAsJsonAsync($"/v1/models/{Model}/aliases/shadow", new { version = 2, weight = 50, reason = "shadow benchmark" })).EnsureSuccessStatusCode();
                }
                else
                {
                    using var removed = await admin.DeleteAsync($"/v1/models/{Model}/aliases/shadow?reason=shadow%20benchmark");
                    if (!removed.IsSuccessStatusCode && (int)removed.StatusCode != 404)
                    {
                        removed.EnsureSuccessStatusCode();
                    }
                }
                // The alias reaches the scorer through the registry's events; the warm-up (1 s) covers that.
                var before = await copies();
                var m = await LoadRunner.RunAsync($"production c{Concurrency}, {(withShadow ? "shadow at weight 50" : "no shadow")}, round {round}",
                    Concurrency, warmup, duration, send);
                var during = await copies() - before;
                record(m);
                Console.WriteLine($"[shadow]   shadow copies during the run: {during.Copied:F0} run, {during.Busy:F0} dropped busy, {during.QueueFull:F0} dropped queue full");
                runs.Add((m, during));
            }
        }
        return runs;
    }

    public static string Render(string machine, IReadOnlyList<(Measurement Run, ShadowCounters Copies)> runs, double seconds, string body)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Shadow traffic benchmark (issue 18)");
        sb.AppendLine();
        sb.AppendLine("Written by `OnlineBench --shadow` (bench/OnlineBench/ShadowComparison.cs), Release build, the platform started by the bench itself.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Production traffic: c{Concurrency} closed loop through the gateway to `{Model}` (the bench CNN, version 1 as `production`, default serving settings plus the payload log on at sample rate 0, which the scorer needs to copy requests: only the copies are recorded; {body}).");
        sb.AppendLine("With shadow: a `shadow` alias on version 2 (the same file) at weight 50, so the scorer copies half of production's requests to it after");
        sb.AppendLine("answering, on its bounded queue (`Shadow:QueueCapacity`, default settings), and runs a copy only while no production request is in flight on the scorer");
        sb.AppendLine("(`Shadow:MaxProductionInFlight` 0), dropping one that waited `Shadow:MaxWaitMilliseconds` for that; a copy that runs and its production request are recorded in the payload log.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Rounds alternate without / with (order flipping each round), {seconds:0.#} s measured after 1 s warm-up; the copies are read from the scorer's");
        sb.AppendLine("`mlplatform.shadow.copied` (copies run) and `mlplatform.shadow.dropped` (reason `busy`: production left no room in time; `queue_full`) counters. Copies still queued");
        sb.AppendLine("when a run with shadow ends may run (in production's gaps) during the next run without: they are counted there.");
        sb.AppendLine();
        sb.AppendLine("## Machine");
        sb.AppendLine(machine);
        sb.AppendLine("## Runs");
        sb.AppendLine("| run | requests/s | p50 ms | p99 ms | requests | errors | shadow copies run (1 s warm-up + run) | dropped busy | dropped queue full |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (m, copies) in runs)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {m.Scenario} | {m.Throughput:F1} | {m.P50Ms:F3} | {m.P99Ms:F3} | {m.Requests} | {m.Errors} | {copies.Copied:F0} | {copies.Busy:F0} | {copies.QueueFull:F0} |");
        }
        sb.AppendLine();
        double Median(bool shadow, Func<Measurement, double> of)
        {
            var values = runs.Where(r => r.Run.Scenario.Contains("shadow at weight", StringComparison.Ordinal) == shadow).Select(r => of(r.Run)).Order().ToArray();
            return values.Length == 0 ? double.NaN : values.Length % 2 == 1 ? values[values.Length / 2] : (values[values.Length / 2 - 1] + values[values.Length / 2]) / 2;
        }
        var ratio = Median(true, m => m.P99Ms) / Median(false, m => m.P99Ms);
        sb.AppendLine("## Target");
        sb.AppendLine("| ratio (medians over rounds) | value | target | met |");
        sb.AppendLine("|---|---:|---:|---|");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| production p99 with shadow at weight 50 / without, c{Concurrency} | {ratio:F2}x | <= 1.1x | {(double.IsNaN(ratio) ? "n/a" : ratio <= 1.1 ? "yes" : "**no**")} |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| production p50 with / without (info) | {Median(true, m => m.P50Ms) / Median(false, m => m.P50Ms):F2}x | | |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| production throughput with / without (info) | {Median(true, m => m.Throughput) / Median(false, m => m.Throughput):F2}x | | |");
        return sb.ToString();
    }
}
