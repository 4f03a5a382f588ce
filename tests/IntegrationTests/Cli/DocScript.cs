using System.Diagnostics;
using System.Text.RegularExpressions;

namespace MlPlatform.IntegrationTests.Cli;

/// <summary>
/// What the tests that run documentation as a script share: the repository's files, a section's ```bash blocks as lines, an <c>mlp</c>
/// wrapper around the Cli.dll built with the tests, and running the script with bash in the tool's working folder.
/// </summary>
public static partial class DocScript
{
    /// <summary>The folder holding MlPlatform.sln, found upwards from the test assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MlPlatform.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("The repository root (MlPlatform.sln) was not found above the test folder.");
    }

    /// <summary>The lines of every ```bash block of the section under <paramref name="heading"/> (to the next "## "), in order.</summary>
    public static async Task<List<string>> BashLinesAsync(string relativePath, string heading)
    {
        var markdown = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), relativePath));
        var start = markdown.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"{relativePath} has no '{heading}' section.");
        var end = markdown.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        var section = end < 0 ? markdown[start..] : markdown[start..end];
        return BashBlocks().Matches(section).SelectMany(m => m.Groups[1].Value.Split('\n')).ToList();
    }

    /// <summary>Writes an executable <c>mlp</c> into <paramref name="folder"/> that runs the Cli.dll built with the tests.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static async Task InstallMlpAsync(string folder)
    {
        Directory.CreateDirectory(folder);
        var wrapper = Path.Combine(folder, "mlp");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec dotnet \"{MlpTool.CliDll}\" \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Runs <paramref name="script"/> with bash in the tool's working folder, with the tool's environment (then <paramref name="adjust"/>).</summary>
    public static async Task<MlpResult> RunAsync(MlpTool mlp, string script, Action<IDictionary<string, string?>>? adjust = null)
    {
        var scriptPath = Path.Combine(mlp.WorkDir, "walkthrough.sh");
        await File.WriteAllTextAsync(scriptPath, script);
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = mlp.WorkDir,
        };
        start.ArgumentList.Add(scriptPath);
        mlp.ApplyEnvironment(start.Environment);
        adjust?.Invoke(start.Environment);
        return await MlpTool.RunProcessAsync(start, stdin: null);
    }

    [GeneratedRegex(@"```bash\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlocks();
}
