using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MlPlatform.Bench;

/// <summary>
/// The floor of the gateway hop on this machine: YARP's direct forwarder alone (no keys, limits, telemetry or routing table),
/// in its own process like the gateway, so the report can separate what proxying costs here from what the gateway adds.
/// </summary>
public static class BareProxy
{
    private const string UrlLine = "BARE-PROXY-URL ";

    /// <summary>Runs in the child process until its standard input closes.</summary>
    public static async Task RunAsync(string target)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddHttpForwarder();
        var app = builder.Build();
        app.MapForwarder("/{**catch-all}", target);
        await app.StartAsync();
        Console.WriteLine(UrlLine + app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
    }

    /// <summary>Starts this program again as a bare proxy to <paramref name="target"/>; disposing the process handle's input stops it.</summary>
    public static async Task<(Process Process, string Url)> StartAsync(string target)
    {
        // Started as `dotnet OnlineBench.dll`, the process is the dotnet host, which needs the assembly again; started as the apphost, not.
        var host = Environment.ProcessPath!;
        string[] arguments = Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? [typeof(BareProxy).Assembly.Location, "--bare-proxy", target]
            : ["--bare-proxy", target];
        var process = Process.Start(new ProcessStartInfo(host, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("Could not start the bare proxy.");
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith(UrlLine, StringComparison.Ordinal))
            {
                return (process, line[UrlLine.Length..]);
            }
        }
        throw new InvalidOperationException("The bare proxy exited before it listened.");
    }
}
