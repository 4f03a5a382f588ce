using System.Diagnostics;

namespace MlPlatform.IntegrationTests.Cli;

/// <summary>What one run of <c>mlp</c> printed and returned.</summary>
public sealed record MlpResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Runs the real tool (<c>dotnet Cli.dll</c>, built next to the tests) as a separate process against the fixture's gateway,
/// with its own config folder so a developer's <c>mlp login</c> never leaks in.
/// </summary>
public sealed class MlpTool : IDisposable
{
    public static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    public static string CliDll { get; } = Path.Combine(AppContext.BaseDirectory, "Cli.dll");

    public MlpTool(string url, string? apiKey)
    {
        Url = url.TrimEnd('/');
        ApiKey = apiKey;
        Directory.CreateDirectory(ConfigHome);
    }

    public string Url { get; }

    public string? ApiKey { get; }

    /// <summary>Given to the tool as <c>XDG_CONFIG_HOME</c>, where <c>mlp login</c> writes <c>mlp/config.json</c>.</summary>
    public string ConfigHome { get; } = Path.Combine(Path.GetTempPath(), "mlp-tests", Guid.NewGuid().ToString("N"));

    public string WorkDir => ConfigHome;

    public static MlpTool For(PlatformFixture platform, string? apiKey = PlatformFixture.AdminApiKey) =>
        new(platform.App.GetEndpoint("gateway", "http").ToString(), apiKey);

    /// <summary>The environment every run gets: the gateway and key as a user would export them, no colours, a private config folder.</summary>
    public void ApplyEnvironment(IDictionary<string, string?> environment)
    {
        environment["MLP_URL"] = Url;
        environment["MLP_API_KEY"] = ApiKey;
        if (ApiKey is null)
        {
            environment.Remove("MLP_API_KEY");
        }
        environment["XDG_CONFIG_HOME"] = ConfigHome;
        environment["NO_COLOR"] = "1";
        environment["COLUMNS"] = "200";
        environment["DOTNET_NOLOGO"] = "1";
    }

    /// <summary>Runs <c>mlp args</c>; <paramref name="environment"/> overrides (null removes) variables after the defaults.</summary>
    public async Task<MlpResult> RunAsync(string[] args, string? stdin = null, Dictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = WorkDir,
        };
        start.ArgumentList.Add(CliDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        ApplyEnvironment(start.Environment);
        foreach (var (key, value) in environment ?? [])
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }
        return await RunProcessAsync(start, stdin);
    }

    public Task<MlpResult> RunAsync(params string[] args) => RunAsync(args, stdin: null);

    public static async Task<MlpResult> RunProcessAsync(ProcessStartInfo start, string? stdin)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }
        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync().WaitAsync(RunTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{start.FileName} {string.Join(' ', start.ArgumentList)}' did not finish within {RunTimeout}: {await stderr}");
        }
        return new MlpResult(process.ExitCode, await stdout, await stderr);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(ConfigHome, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS's temp cleanup.
        }
    }
}
