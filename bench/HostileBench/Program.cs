using System.Globalization;
using MlPlatform.Bench.Hostile;

// Hostile-load benchmark (issue 16): valid readers' latency and errors while other readers send malformed, oversized, slow and
// memory-heavy traffic, against a platform already running (`./platform start`, Release). Writes a markdown report. Usage:
//   dotnet run -c Release --project bench/HostileBench -- --gateway http://localhost:8000 --admin-key KEY --valid-key KEY --hostile-key KEY
//     [--quiet-seconds 60] [--seconds 300] [--rounds 5] [--valid-clients 4] [--out bench/results/hostile.md]
//     [--platform-dir DIR] [--profile-seconds 20 --profile-out bench/results/hostile-profile.md]
// --platform-dir (the platform's Platform:DataDir) lets the CPU account find the platform's Redis. --profile-seconds N first runs each
// hostile kind alone (no valid clients) and the valid clients alone for N s each and writes the CPU each process used to --profile-out;
// with --rounds 0 only the profile runs.
// The quiet and hostile time is split into --rounds alternating rounds (quiet 60/5 s, hostile 300/5 s, ...), pooled per kind.
// The valid and hostile keys must be two different reader keys (e.g. Gateway:ApiKeys:Keys:valid:Role=reader / :Key=... at start).
var gateway = new Uri(Arg("--gateway") ?? "http://localhost:8000");
var adminKey = Arg("--admin-key") ?? throw new ArgumentException("--admin-key is required");
var validKey = Arg("--valid-key") ?? throw new ArgumentException("--valid-key is required");
var hostileKey = Arg("--hostile-key") ?? throw new ArgumentException("--hostile-key is required");
var quiet = TimeSpan.FromSeconds(double.Parse(Arg("--quiet-seconds") ?? "60", CultureInfo.InvariantCulture));
var hostile = TimeSpan.FromSeconds(double.Parse(Arg("--seconds") ?? "300", CultureInfo.InvariantCulture));
var validClients = int.Parse(Arg("--valid-clients") ?? "4", CultureInfo.InvariantCulture);
var output = Arg("--out") ?? Path.Combine(FindRepositoryRoot(), "bench", "results", "hostile.md");

Phase.PlatformDir = Arg("--platform-dir");
var startLoad = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
var setup = await Setup.RunAsync(gateway, adminKey);
Console.WriteLine($"model {setup.Model} version {setup.Version}; big artifact {setup.BigModel} version {setup.BigVersion}");

if (Arg("--profile-seconds") is { } profileArg)
{
    // Where the CPU goes, kind by kind: each alone against an otherwise idle platform.
    var profileSeconds = TimeSpan.FromSeconds(double.Parse(profileArg, CultureInfo.InvariantCulture));
    var profileLoad = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
    var profile = new List<Phase>
    {
        await Phase.RunAsync("idle (nothing sent)", gateway, setup, validKey, hostileKey, 0, profileSeconds, withHostile: false),
        await Phase.RunAsync($"valid clients alone ({validClients})", gateway, setup, validKey, hostileKey, validClients, profileSeconds, withHostile: false),
    };
    foreach (var (kind, loops) in HostileTraffic.Kinds)
    {
        profile.Add(await Phase.RunAsync($"{kind} ({loops} loops)", gateway, setup, validKey, hostileKey, 0, profileSeconds, withHostile: true, kind));
        Console.WriteLine($"[profile] {profile[^1].Summary()}");
    }
    profile.Add(await Phase.RunAsync("every hostile kind, no valid clients", gateway, setup, validKey, hostileKey, 0, profileSeconds, withHostile: true));
    var profileOut = Arg("--profile-out") ?? Path.Combine(FindRepositoryRoot(), "bench", "results", "hostile-profile.md");
    await File.WriteAllTextAsync(profileOut, Report.WriteProfile(gateway, profile, profileLoad));
    Console.WriteLine($"profile written to {profileOut}");
}

// A few unrecorded seconds first: the valid clients' first requests (connections, JIT) would otherwise land in the first quiet round.
var warmUp = await Phase.RunAsync("warm-up", gateway, setup, validKey, hostileKey, validClients, TimeSpan.FromSeconds(5), withHostile: false);
Console.WriteLine($"[hostile] {warmUp.Summary()} (not recorded)");
// Quiet and hostile phases alternate in rounds (quiet, hostile, hostile, quiet, ...), so both see the machine's other load alike.
var rounds = int.Parse(Arg("--rounds") ?? "5", CultureInfo.InvariantCulture);
if (rounds == 0)
{
    return;
}
var (quietRounds, hostileRounds) = (new List<Phase>(), new List<Phase>());
for (var round = 1; round <= rounds; round++)
{
    foreach (var withHostile in round % 2 == 1 ? new[] { false, true } : [true, false])
    {
        var phase = await Phase.RunAsync($"{(withHostile ? "hostile" : "quiet")}, round {round}", gateway, setup, validKey, hostileKey, validClients,
            (withHostile ? hostile : quiet) / rounds, withHostile);
        Console.WriteLine($"[hostile] {phase.Summary()}");
        (withHostile ? hostileRounds : quietRounds).Add(phase);
    }
}
var quietRun = Phase.Merge("quiet: valid clients only (all rounds)", quietRounds);
var hostileRun = Phase.Merge("hostile: valid clients + hostile traffic (all rounds)", hostileRounds);
Console.WriteLine(quietRun.Summary());
Console.WriteLine(hostileRun.Summary());

await File.WriteAllTextAsync(output, Report.Write(gateway, validClients, quietRun, hostileRun, [.. quietRounds.Zip(hostileRounds).SelectMany((p, i) => i % 2 == 0 ? new[] { p.First, p.Second } : [p.Second, p.First])], startLoad));
Console.WriteLine($"written to {output}");

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "MlPlatform.sln")))
        {
            return dir.FullName;
        }
    }
    return Directory.GetCurrentDirectory();
}
