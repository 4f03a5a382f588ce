using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace MlPlatform.ModelRegistry.Inspection;

/// <summary>
/// Reads a model's signature by running <see cref="InspectCommand"/> in a child process with a time and memory limit:
/// a file that hangs, crashes or exhausts ONNX Runtime is refused instead of taking the registry down.
/// </summary>
public sealed class ModelInspector(IOptions<InspectionOptions> options, ILogger<ModelInspector> logger)
{
    private static readonly TimeSpan MemoryPollInterval = TimeSpan.FromMilliseconds(20);
    private const int StderrTailChars = 4096;
    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrent, options.Value.MaxConcurrent);
    private readonly Lazy<string?> _unshare = new(() => NetworkIsolation.Probe(logger));

    public async Task<InspectionReport> InspectAsync(string blobPath, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await _slots.WaitAsync(cancellationToken);
        try
        {
            var unshare = settings.IsolateNetwork ? _unshare.Value : null;
            using var process = new Process { StartInfo = CreateStartInfo(blobPath, settings, unshare) };
            var started = Stopwatch.StartNew();
            process.Start();
            var stdout = ReadCappedAsync(process.StandardOutput, settings.MaxReportBytes);
            var stderr = ReadTailAsync(process.StandardError, StderrTailChars);
            var exited = process.WaitForExitAsync(CancellationToken.None);

            var limitBytes = (long)settings.MaxMemoryMegabytes << 20;
            var deadline = TimeSpan.FromSeconds(settings.TimeoutSeconds);
            long peak = 0;
            string? killedBecause = null;
            try
            {
                while (!exited.IsCompleted)
                {
                    process.Refresh();
                    try
                    {
                        peak = Math.Max(peak, process.WorkingSet64);
                    }
                    catch (InvalidOperationException)
                    {
                        // Exited between the check and the read.
                    }
                    if (peak > limitBytes)
                    {
                        killedBecause = $"Opening the model used more than {settings.MaxMemoryMegabytes} MiB (Inspection:MaxMemoryMegabytes).";
                    }
                    else if (started.Elapsed > deadline)
                    {
                        killedBecause = $"Opening the model took longer than {settings.TimeoutSeconds} s (Inspection:TimeoutSeconds).";
                    }
                    else if (stdout.IsCompleted && stdout.Result is null)
                    {
                        killedBecause = $"The inspection report was larger than {settings.MaxReportBytes} bytes (Inspection:MaxReportBytes).";
                    }
                    if (killedBecause is not null)
                    {
                        break;
                    }
                    await Task.WhenAny(exited, Task.Delay(MemoryPollInterval, cancellationToken));
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
            finally
            {
                if (!exited.IsCompleted)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            await exited;
            var output = await stdout;
            var errors = PathRedaction.Redact(await stderr, blobPath);

            if (killedBecause is null && output is null)
            {
                killedBecause = $"The inspection report was larger than {settings.MaxReportBytes} bytes (Inspection:MaxReportBytes).";
            }
            if (killedBecause is null && IsCpuLimitExit(process.ExitCode))
            {
                killedBecause = $"Opening the model used more than {settings.MaxCpuSeconds} s of CPU time (Inspection:MaxCpuSeconds).";
            }
            if (killedBecause is not null)
            {
                logger.LogWarning("Model inspection killed: {Reason}", killedBecause);
                return InspectionReport.Refused(killedBecause);
            }
            if (process.ExitCode == 0 && TryParse(output!) is { } report)
            {
                logger.LogInformation("Inspected {Blob} in {Elapsed} ms (peak {PeakMiB} MiB)",
                    Path.GetFileName(blobPath), started.ElapsedMilliseconds, peak >> 20);
                return report;
            }
            var how = DescribeExit(process.ExitCode);
            logger.LogWarning("Model inspection {How}: {Stderr}", how, Tail(errors));
            return InspectionReport.Refused($"ONNX Runtime crashed while opening the model (inspection process {how}). {Tail(errors)}".TrimEnd());
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>The variables the child keeps from the registry's environment: what the .NET host needs to start, nothing that configures the registry.</summary>
    internal static readonly string[] InheritedVariables = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "DOTNET_ROOT", "DOTNET_ROOT_X64"];

    private static ProcessStartInfo CreateStartInfo(string blobPath, InspectionOptions settings, string? unshare)
    {
        // Re-invokes this very binary: through the dotnet host when it runs as 'dotnet ModelRegistry.dll', directly when it runs as its apphost.
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("The registry's own executable path is unknown.");
        var info = new ProcessStartInfo(unshare ?? host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (unshare is not null)
        {
            // unshare execs the command in a new network namespace with only a loopback that is down: same pid, no network.
            info.ArgumentList.Add("--net");
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(host);
        }
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            info.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }
        info.ArgumentList.Add(InspectCommand.Name);
        info.ArgumentList.Add(blobPath);

        // The registry's environment holds its secrets (the internal key, the Redis password in the connection string): none reach the child.
        var inherited = InheritedVariables
            .Select(name => (Name: name, Value: Environment.GetEnvironmentVariable(name)))
            .Where(v => v.Value is not null)
            .ToList();
        info.Environment.Clear();
        foreach (var (name, value) in inherited)
        {
            info.Environment[name] = value;
        }
        // The managed heap gets a hard cap too, so the runtime fails fast rather than growing until the watchdog notices.
        info.Environment["DOTNET_GCHeapHardLimit"] = ((long)settings.MaxMemoryMegabytes << 20).ToString("X", CultureInfo.InvariantCulture);
        info.Environment["DOTNET_gcServer"] = "0";
        info.Environment[InspectCommand.CpuSecondsVariable] = settings.MaxCpuSeconds.ToString(CultureInfo.InvariantCulture);
        return info;
    }

    /// <summary>SIGXCPU (the soft CPU limit) or SIGKILL at the hard one, reported by .NET as 128 + the signal.</summary>
    private static bool IsCpuLimitExit(int exitCode) => !OperatingSystem.IsWindows() && exitCode == 128 + 24;

    /// <summary>Reads the child's report, at most <paramref name="maxChars"/>; null (and the rest discarded) when it is longer.</summary>
    private static async Task<string?> ReadCappedAsync(StreamReader reader, int maxChars)
    {
        var text = new System.Text.StringBuilder();
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer, CancellationToken.None)) > 0)
        {
            if (text.Length + read > maxChars)
            {
                return null;
            }
            text.Append(buffer, 0, read);
        }
        return text.ToString();
    }

    /// <summary>Drains the child's stderr (so it never blocks on a full pipe), keeping only the last <paramref name="keepChars"/>.</summary>
    private static async Task<string> ReadTailAsync(StreamReader reader, int keepChars)
    {
        var text = new System.Text.StringBuilder();
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer, CancellationToken.None)) > 0)
        {
            text.Append(buffer, 0, read);
            if (text.Length > 2 * keepChars)
            {
                text.Remove(0, text.Length - keepChars);
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// .NET reports a child killed by signal N as exit code 128 + N; naming the signal tells an operator whether ORT aborted (SIGABRT),
    /// faulted (SIGSEGV) or something outside killed it (SIGKILL, e.g. the kernel's OOM killer).
    /// </summary>
    private static string DescribeExit(int exitCode)
    {
        if (OperatingSystem.IsWindows() || exitCode is <= 128 or > 128 + 64)
        {
            return $"exit code {exitCode}";
        }
        var signal = exitCode - 128;
        var name = signal switch
        {
            1 => "SIGHUP",
            2 => "SIGINT",
            4 => "SIGILL",
            6 => "SIGABRT",
            7 => "SIGBUS",
            8 => "SIGFPE",
            24 => "SIGXCPU",
            9 => "SIGKILL",
            11 => "SIGSEGV",
            15 => "SIGTERM",
            _ => null,
        };
        return name is null ? $"killed by signal {signal}" : $"killed by signal {signal} ({name})";
    }

    private static InspectionReport? TryParse(string output)
    {
        try
        {
            var report = JsonSerializer.Deserialize<InspectionReport>(output, InspectCommand.Json);
            return report is { Signature: not null } or { Error: not null } ? report : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Tail(string text)
    {
        text = text.Trim();
        return text.Length <= 500 ? text : text[^500..];
    }
}
