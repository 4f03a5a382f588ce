using System.Diagnostics;

namespace MlPlatform.Bench;

/// <summary>Throughput and latency of one scenario.</summary>
public sealed record Measurement(string Scenario, int Concurrency, long Requests, long ItemsPerRequest, long Errors, double Seconds, double P50Ms, double P99Ms)
{
    public double Throughput => Requests * ItemsPerRequest / Seconds;
}

/// <summary>Closed-loop load: <c>concurrency</c> workers each send the next request as soon as the previous one returns.</summary>
public static class LoadRunner
{
    public static async Task<Measurement> RunAsync(string scenario, int concurrency, TimeSpan warmup, TimeSpan duration,
        Func<CancellationToken, Task<bool>> send, long itemsPerRequest = 1)
    {
        using (var warm = new CancellationTokenSource(warmup))
        {
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
            {
                while (!warm.IsCancellationRequested)
                {
                    await send(CancellationToken.None);
                }
            })));
        }

        var latencies = new List<long>[concurrency];
        long errors = 0;
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(i => Task.Run(async () =>
        {
            var mine = latencies[i] = new List<long>(4096);
            while (Stopwatch.GetTimestamp() < end)
            {
                var t0 = Stopwatch.GetTimestamp();
                var ok = await send(CancellationToken.None);
                mine.Add(Stopwatch.GetTimestamp() - t0);
                if (!ok)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Measurement(scenario, concurrency, all.Length, itemsPerRequest, errors, seconds, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    /// <summary>
    /// One worker alternating between two targets request by request (the order flipping each round), so both see the same
    /// moment-to-moment machine load: on a shared machine this is the fair way to measure what one path adds over the other.
    /// </summary>
    public static async Task<(Measurement A, Measurement B)> RunPairedAsync(string scenarioA, string scenarioB, TimeSpan warmup, TimeSpan duration,
        Func<CancellationToken, Task<bool>> sendA, Func<CancellationToken, Task<bool>> sendB)
    {
        var warmEnd = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < warmEnd)
        {
            await sendA(CancellationToken.None);
            await sendB(CancellationToken.None);
        }
        var a = new List<long>(8192);
        var b = new List<long>(8192);
        long errorsA = 0, errorsB = 0;
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        for (var round = 0; Stopwatch.GetTimestamp() < end; round++)
        {
            for (var k = 0; k < 2; k++)
            {
                var first = (round + k) % 2 == 0;
                var t0 = Stopwatch.GetTimestamp();
                var ok = await (first ? sendA : sendB)(CancellationToken.None);
                (first ? a : b).Add(Stopwatch.GetTimestamp() - t0);
                if (!ok)
                {
                    if (first)
                    {
                        errorsA++;
                    }
                    else
                    {
                        errorsB++;
                    }
                }
            }
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Measurement Of(string scenario, List<long> latencies, long errors)
        {
            var sorted = latencies.Order().ToArray();
            // Each target had the worker half of the time.
            return new Measurement(scenario, 1, sorted.Length, 1, errors, seconds / 2, Percentile(sorted, 0.50), Percentile(sorted, 0.99));
        }
        return (Of(scenarioA, a, errorsA), Of(scenarioB, b, errorsB));
    }

    /// <summary>
    /// One worker cycling through several targets request by request (the starting target rotating each round), so all of them see the
    /// same moment-to-moment machine load: the hop is measured against the scorer directly and a bare YARP forwarder in one loop.
    /// </summary>
    public static async Task<Measurement[]> RunInterleavedAsync(TimeSpan warmup, TimeSpan duration,
        params (string Scenario, Func<CancellationToken, Task<bool>> Send)[] targets)
    {
        var warmEnd = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < warmEnd)
        {
            foreach (var (_, send) in targets)
            {
                await send(CancellationToken.None);
            }
        }
        var latencies = targets.Select(_ => new List<long>(8192)).ToArray();
        var errors = new long[targets.Length];
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        for (var round = 0; Stopwatch.GetTimestamp() < end; round++)
        {
            for (var k = 0; k < targets.Length; k++)
            {
                var i = (round + k) % targets.Length;
                var t0 = Stopwatch.GetTimestamp();
                var ok = await targets[i].Send(CancellationToken.None);
                latencies[i].Add(Stopwatch.GetTimestamp() - t0);
                if (!ok)
                {
                    errors[i]++;
                }
            }
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return [.. targets.Select((t, i) =>
        {
            var sorted = latencies[i].Order().ToArray();
            // Each target had the worker for its share of the time.
            return new Measurement(t.Scenario, 1, sorted.Length, 1, errors[i], seconds / targets.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99));
        })];
    }

    /// <summary>The same loop for synchronous work on the calling thread (in-process ONNX Runtime).</summary>
    public static Measurement RunSync(string scenario, TimeSpan warmup, TimeSpan duration, Action work, long itemsPerRequest)
    {
        var warmEnd = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < warmEnd)
        {
            work();
        }
        var latencies = new List<long>(16384);
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end)
        {
            var t0 = Stopwatch.GetTimestamp();
            work();
            latencies.Add(Stopwatch.GetTimestamp() - t0);
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var sorted = latencies.Order().ToArray();
        return new Measurement(scenario, 1, sorted.Length, itemsPerRequest, 0, seconds, Percentile(sorted, 0.50), Percentile(sorted, 0.99));
    }

    private static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))] * 1000.0 / Stopwatch.Frequency;
}
