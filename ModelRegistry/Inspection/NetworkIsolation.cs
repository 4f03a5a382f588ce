using System.Diagnostics;

namespace MlPlatform.ModelRegistry.Inspection;

/// <summary>
/// Finds out once whether this machine lets the registry start a process without network (<c>unshare --net</c> from util-linux:
/// it needs root or unprivileged user namespaces). The platform's container image has neither util-linux nor root, so there the
/// inspection child keeps the pod's network; docs/security.md says what bounds it then.
/// </summary>
internal static class NetworkIsolation
{
    private static readonly string[] Candidates = ["/usr/bin/unshare", "/bin/unshare"];

    /// <summary>The path of a working <c>unshare</c>, or null when the child must run with the registry's network.</summary>
    public static string? Probe(ILogger logger)
    {
        var unshare = Candidates.FirstOrDefault(File.Exists);
        if (unshare is null || OperatingSystem.IsWindows())
        {
            logger.LogWarning("unshare is not installed: model inspection runs with the registry's network access");
            return null;
        }
        try
        {
            var info = new ProcessStartInfo(unshare) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "--net", "--", "/bin/true" })
            {
                info.ArgumentList.Add(arg);
            }
            info.Environment.Clear();
            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill();
                logger.LogWarning("unshare --net did not answer: model inspection runs with the registry's network access");
                return null;
            }
            if (process.ExitCode != 0)
            {
                logger.LogWarning("unshare --net is not permitted here ({Error}): model inspection runs with the registry's network access", error.Trim());
                return null;
            }
            logger.LogInformation("Model inspection runs without network ({Unshare} --net)", unshare);
            return unshare;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            logger.LogWarning(ex, "unshare could not be started: model inspection runs with the registry's network access");
            return null;
        }
    }
}
