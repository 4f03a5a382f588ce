using System.Diagnostics;
using System.Text;

namespace MlPlatform.DeploymentTests;

/// <summary>The repository the tests run from, and the commands they run in it.</summary>
internal static class Repository
{
    /// <summary>The four services that ship as container images, by project name.</summary>
    public static readonly string[] Services = ["Gateway", "ModelRegistry", "OnlineScorer", "BatchScorer"];

    // A Release publish took over 5 min at load average 35-40 (other builds and the integration suite on the same 2 cores).
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);

    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The repository name the SDK gives a service's image (ContainerRepository in Directory.Build.props).</summary>
    public static string ImageRepositoryOf(string service) => $"mlplatform/{service.ToLowerInvariant()}";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MlPlatform.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No MlPlatform.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>Runs a command in the repository root and returns its standard output; a non-zero exit fails with both streams.</summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory ?? Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // A test host's MSBuild settings must not leak into the builds these commands run.
        start.Environment.Remove("MSBuildExtensionsPath");
        start.Environment.Remove("MSBUILD_EXE_PATH");
        start.Environment.Remove("MSBuildSDKsPath");

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(CommandTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var output = await stdout;
        if (process.ExitCode != 0)
        {
            var message = new StringBuilder()
                .AppendLine($"'{fileName} {string.Join(' ', start.ArgumentList)}' exited with {process.ExitCode}.")
                .AppendLine(output)
                .AppendLine(await stderr);
            throw new InvalidOperationException(message.ToString());
        }
        return output;
    }
}
