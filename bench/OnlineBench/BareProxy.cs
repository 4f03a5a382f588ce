using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace MlPlatform.Bench;

/// <summary>
/// The floor of the gateway hop on this machine: YARP's direct forwarder alone (no keys, limits, telemetry or routing table),
/// in its own process like the gateway, so the report can separate what proxying costs here from what the gateway adds.
/// With <c>expectContinueOverBytes</c> it marks larger bodies <c>Expect: 100-continue</c> and waits up to 30 s for the go-ahead, as the
/// gateway's <c>EarlyAnswers:MinBodyBytes</c> / <c>ContinueTimeout</c> do, so the bench can show what that round trip costs by itself.
/// </summary>
public static class BareProxy
{
    private const string UrlLine = "BARE-PROXY-URL ";

    /// <summary>Runs in the child process until its standard input closes.</summary>
    public static async Task RunAsync(string target, long? expectContinueOverBytes)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddHttpForwarder();
        var app = builder.Build();
        // The handler YARP's ForwarderHttpClientFactory builds, plus the gateway's 30 s wait for 100 Continue.
        using var client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            Expect100ContinueTimeout = TimeSpan.FromSeconds(30),
        });
        HttpTransformer transformer = expectContinueOverBytes is { } over ? new ExpectContinueTransformer(over) : HttpTransformer.Default;
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        app.Map("/{**catch-all}", async (HttpContext context) =>
        {
            await forwarder.SendAsync(context, target, client, ForwarderRequestConfig.Empty, transformer);
        });
        await app.StartAsync();
        Console.WriteLine(UrlLine + app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
    }

    /// <summary>Starts this program again as a bare proxy to <paramref name="target"/>; disposing the process handle's input stops it.</summary>
    public static async Task<(Process Process, string Url)> StartAsync(string target, long? expectContinueOverBytes = null)
    {
        // Started as `dotnet OnlineBench.dll`, the process is the dotnet host, which needs the assembly again; started as the apphost, not.
        var host = Environment.ProcessPath!;
        List<string> arguments = Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? [typeof(BareProxy).Assembly.Location, "--bare-proxy", target]
            : ["--bare-proxy", target];
        if (expectContinueOverBytes is { } over)
        {
            arguments.AddRange(["--expect-continue-over", over.ToString(CultureInfo.InvariantCulture)]);
        }
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

    /// <summary>The gateway's rule (EarlyAnswerTransformProvider): a body over the threshold waits for the backend's go-ahead.</summary>
    private sealed class ExpectContinueTransformer(long overBytes) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix,
            CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            if (proxyRequest.Content is not null && (httpContext.Request.ContentLength is not { } length || length > overBytes))
            {
                proxyRequest.Headers.ExpectContinue = true;
            }
        }
    }
}
