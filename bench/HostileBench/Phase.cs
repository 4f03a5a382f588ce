using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace MlPlatform.Bench.Hostile;

/// <summary>One measured phase: valid clients in a closed loop, with or without the hostile workers, and the machine sampled meanwhile.</summary>
internal sealed class Phase
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");
    private static readonly byte[] ValidBody = Encoding.UTF8.GetBytes("{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}");

    private readonly ConcurrentBag<double> _validLatencies = [];
    private readonly ConcurrentDictionary<string, long> _validErrors = new();
    private readonly ConcurrentDictionary<(string Kind, string Outcome), long> _hostile = new();
    private readonly List<(double One, double Five)> _load = [];
    private long _scorerPeakRss;

    public required string Name { get; init; }
    public TimeSpan Duration { get; private set; }
    public IReadOnlyCollection<double> ValidLatencies => _validLatencies;
    public IReadOnlyDictionary<string, long> ValidErrors => _validErrors;
    public IReadOnlyDictionary<(string Kind, string Outcome), long> Hostile => _hostile;
    public IReadOnlyList<(double One, double Five)> Load => _load;
    public long ScorerPeakRss => _scorerPeakRss;
    public string StartedUtc { get; private set; } = "";

    /// <summary>CPU seconds each group used during the phase (<see cref="CpuAccount.Groups"/>).</summary>
    public IReadOnlyDictionary<string, double> CpuSeconds { get; private set; } = new Dictionary<string, double>();

    /// <summary>Where the platform under test keeps its data (its Redis is found by it), or null.</summary>
    public static string? PlatformDir { get; set; }

    public static async Task<Phase> RunAsync(string name, Uri gateway, Setup setup, string validKey, string hostileKey, int validClients,
        TimeSpan duration, bool withHostile, string? onlyKind = null)
    {
        var phase = new Phase { Name = name, StartedUtc = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) };
        var root = CpuAccount.RepositoryRoot();
        var cpuStart = CpuAccount.Take(root, PlatformDir);
        using var stop = new CancellationTokenSource(duration);
        var started = Stopwatch.GetTimestamp();
        var tasks = new List<Task> { phase.SampleAsync(stop.Token) };
        using var valid = Client(gateway, validKey, TimeSpan.FromSeconds(60));
        var validLoops = Enumerable.Range(0, validClients).Select(_ => phase.ValidLoopAsync(valid, setup, stop.Token)).ToList();
        using var hostile = Client(gateway, hostileKey, TimeSpan.FromSeconds(120));
        if (withHostile)
        {
            tasks.AddRange(new HostileTraffic(hostile, setup, phase.CountHostile).Start(stop.Token, onlyKind));
        }
        await Task.WhenAll(validLoops);
        if (validClients == 0)
        {
            await Task.Delay(duration);
        }
        // The valid clients' time: hostile requests still ending (a trickled upload) must not stretch it.
        phase.Duration = Stopwatch.GetElapsedTime(started);
        phase.CpuSeconds = CpuAccount.Between(cpuStart, CpuAccount.Take(root, PlatformDir));
        await Task.WhenAll(tasks);
        return phase;
    }

    /// <summary>Cores each group used on average during the phase (CPU seconds over wall seconds).</summary>
    public string CpuCores(string group) =>
        CpuSeconds.TryGetValue(group, out var seconds) && Duration > TimeSpan.Zero ? (seconds / Duration.TotalSeconds).ToString("F2", CultureInfo.InvariantCulture) : "-";

    /// <summary>The phases of one kind from every round as one: latencies, errors, outcomes and load samples pooled, durations added.</summary>
    public static Phase Merge(string name, IReadOnlyList<Phase> rounds)
    {
        var merged = new Phase { Name = name, StartedUtc = rounds[0].StartedUtc, Duration = TimeSpan.FromTicks(rounds.Sum(r => r.Duration.Ticks)) };
        foreach (var round in rounds)
        {
            foreach (var latency in round._validLatencies)
            {
                merged._validLatencies.Add(latency);
            }
            foreach (var (key, n) in round._validErrors)
            {
                merged._validErrors.AddOrUpdate(key, n, (_, m) => m + n);
            }
            foreach (var (key, n) in round._hostile)
            {
                merged._hostile.AddOrUpdate(key, n, (_, m) => m + n);
            }
            merged._load.AddRange(round._load);
            merged.CpuSeconds = CpuAccount.Groups.ToDictionary(g => g, g => merged.CpuSeconds.GetValueOrDefault(g) + round.CpuSeconds.GetValueOrDefault(g));
            merged._scorerPeakRss = Math.Max(merged._scorerPeakRss, round._scorerPeakRss);
        }
        return merged;
    }

    public string Summary()
    {
        var sorted = _validLatencies.Order().ToArray();
        return $"{Name}: {sorted.Length} valid requests, p50 {Percentile(sorted, 0.5):F2} ms, p99 {Percentile(sorted, 0.99):F2} ms, " +
            $"errors {_validErrors.Values.Sum()}; hostile requests {_hostile.Values.Sum()}; cores used: " +
            string.Join(", ", CpuAccount.Groups.Select(g => $"{g} {CpuCores(g)}"));
    }

    public static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private void CountHostile(string kind, string outcome) => _hostile.AddOrUpdate((kind, outcome), 1, (_, n) => n + 1);

    private static HttpClient Client(Uri gateway, string key, TimeSpan timeout)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = gateway, Timeout = timeout };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private async Task ValidLoopAsync(HttpClient client, Setup setup, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var content = new ByteArrayContent(ValidBody);
                content.Headers.ContentType = JsonType;
                using var response = await client.PostAsync($"/v2/models/{setup.Model}/infer", content, CancellationToken.None);
                await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                if (response.IsSuccessStatusCode)
                {
                    _validLatencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                else
                {
                    _validErrors.AddOrUpdate(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
                _validErrors.AddOrUpdate(ex.GetType().Name, 1, (_, n) => n + 1);
            }
        }
    }

    private async Task SampleAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var fields = (await File.ReadAllTextAsync("/proc/loadavg", CancellationToken.None)).Split(' ');
            lock (_load)
            {
                _load.Add((double.Parse(fields[0], CultureInfo.InvariantCulture), double.Parse(fields[1], CultureInfo.InvariantCulture)));
            }
            _scorerPeakRss = Math.Max(_scorerPeakRss, ScorerRss());
            try
            {
                await Task.Delay(2000, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Resident memory of the online scorer started from this repository (others on the machine run their own).</summary>
    private static long ScorerRss()
    {
        var root = CpuAccount.RepositoryRoot();
        long rss = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc").Where(d => char.IsDigit(Path.GetFileName(d)[0])))
        {
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(Path.Combine(root, "OnlineScorer"), StringComparison.Ordinal))
                {
                    var line = File.ReadLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                    rss = Math.Max(rss, line is null ? 0 : long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return rss;
    }
}
