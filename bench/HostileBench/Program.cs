using System.Globalization;
using MlPlatform.Bench.Hostile;

// Hostile-load benchmark (issue 16): valid readers' latency and errors while other readers send malformed, oversized, slow and
// memory-heavy traffic, against a platform already running (`./platform start`, Release). Writes a markdown report. Usage:
//   dotnet run -c Release --project bench/HostileBench -- --gateway http://localhost:8000 --admin-key KEY --valid-key KEY --hostile-key KEY
//     [--quiet-seconds 60] [--seconds 300] [--valid-clients 4] [--out bench/results/hostile.md]
// The valid and hostile keys must be two different reader keys (e.g. Gateway:ApiKeys:Keys:valid:Role=reader / :Key=... at start).
var gateway = new Uri(Arg("--gateway") ?? "http://localhost:8000");
var adminKey = Arg("--admin-key") ?? throw new ArgumentException("--admin-key is required");
var validKey = Arg("--valid-key") ?? throw new ArgumentException("--valid-key is required");
var hostileKey = Arg("--hostile-key") ?? throw new ArgumentException("--hostile-key is required");
var quiet = TimeSpan.FromSeconds(double.Parse(Arg("--quiet-seconds") ?? "60", CultureInfo.InvariantCulture));
var hostile = TimeSpan.FromSeconds(double.Parse(Arg("--seconds") ?? "300", CultureInfo.InvariantCulture));
var validClients = int.Parse(Arg("--valid-clients") ?? "4", CultureInfo.InvariantCulture);
var output = Arg("--out") ?? Path.Combine(FindRepositoryRoot(), "bench", "results", "hostile.md");

var setup = await Setup.RunAsync(gateway, adminKey);
Console.WriteLine($"model {setup.Model} version {setup.Version}; big artifact {setup.BigModel} version {setup.BigVersion}");

var quietRun = await Phase.RunAsync("quiet: valid clients only", gateway, setup, validKey, hostileKey, validClients, quiet, withHostile: false);
Console.WriteLine(quietRun.Summary());
var hostileRun = await Phase.RunAsync("hostile: valid clients + hostile traffic", gateway, setup, validKey, hostileKey, validClients, hostile, withHostile: true);
Console.WriteLine(hostileRun.Summary());

await File.WriteAllTextAsync(output, Report.Write(gateway, validClients, quietRun, hostileRun));
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
