using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;

namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>
/// A webhook receiver for the registry's alert notifications: an <see cref="HttpListener"/> on 127.0.0.1 that keeps every body and the
/// headers it came with, and answers <c>status</c> (204 by default; a failing webhook answers 500). <c>pathAndQuery</c> may carry a
/// query, as the tokens of real webhook URLs do.
/// </summary>
public sealed class WebhookListener : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _listening;
    private readonly int _status;
    private readonly string _pathAndQuery;

    public WebhookListener(int status = 204, string pathAndQuery = "/hooks/alerts")
    {
        _status = status;
        _pathAndQuery = pathAndQuery;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _listening = Task.Run(ListenAsync);
    }

    public int Port { get; }

    /// <summary>The URL to configure as <c>Registry:Alerts:Webhooks:N:Url</c>.</summary>
    public string Url => $"http://127.0.0.1:{Port}{_pathAndQuery}";

    /// <summary>Every webhook body received, in order.</summary>
    public ConcurrentQueue<JsonDocument> Received { get; } = new();

    /// <summary>The header names of every request, in order (same positions as <see cref="Received"/>).</summary>
    public ConcurrentQueue<string[]> Headers { get; } = new();

    private async Task ListenAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            try
            {
                Headers.Enqueue(context.Request.Headers.AllKeys.OfType<string>().ToArray());
                Received.Enqueue(await JsonDocument.ParseAsync(context.Request.InputStream));
                context.Response.StatusCode = _status;
            }
            catch (JsonException)
            {
                context.Response.StatusCode = 400;
            }
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        await _listening.ConfigureAwait(false);
        _stop.Dispose();
    }
}
