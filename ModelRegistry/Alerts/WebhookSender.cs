using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace MlPlatform.ModelRegistry.Alerts;

/// <summary>
/// POSTs alert notifications with an <see cref="HttpClient"/> of its own: no service discovery, no internal credential, no retry handler
/// (the caller's attempts are the only ones), no redirects, a timeout and a response size cap. Unless private targets are allowed,
/// every connection resolves the host itself and refuses an address inside the platform's network, so a DNS change after start-up
/// cannot point a webhook at it.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _client;

    public WebhookSender(IOptions<AlertOptions> options)
    {
        var settings = options.Value;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(settings.WebhookTimeoutSeconds),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            MaxResponseHeadersLength = 64,
        };
        if (!settings.AllowPrivateWebhookTargets)
        {
            handler.ConnectCallback = ConnectToPublicAddressAsync;
        }
        _client = new HttpClient(handler)
        {
            Timeout = TimeSpan.FromSeconds(settings.WebhookTimeoutSeconds),
            MaxResponseContentBufferSize = settings.WebhookMaxResponseBytes,
        };
    }

    /// <summary>One POST; null when the webhook answered 2xx, else why not.</summary>
    public async Task<string?> PostAsync(string url, string json, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
            using var response = await _client.PostAsync(url, content, cancellationToken);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Messages of HttpClient name the full URL; only the reason is kept.
            return ex is TaskCanceledException ? "timed out" : Describe(ex);
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        HttpRequestException { InnerException: WebhookTargetRefusedException refused } => refused.Message,
        HttpRequestException { HttpRequestError: var error } when error != HttpRequestError.Unknown => $"{error}",
        _ => ex.GetType().Name,
    };

    private static async ValueTask<Stream> ConnectToPublicAddressAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(context.DnsEndPoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
        // Every address is checked, not only the first: the connection must not be able to fall back to a refused one.
        foreach (var address in addresses)
        {
            if (WebhookTargets.RefuseAddress(address) is { } reason)
            {
                throw new WebhookTargetRefusedException($"the webhook host resolves to a refused address: {reason}");
            }
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _client.Dispose();

    private sealed class WebhookTargetRefusedException(string message) : Exception(message);
}
