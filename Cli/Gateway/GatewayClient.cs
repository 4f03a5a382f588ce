using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlPlatform.Cli.Gateway;

/// <summary>Talks to the gateway and turns every failure into a <see cref="CliException"/> with one clear line and an exit code.</summary>
public sealed class GatewayClient : IDisposable
{
    private readonly HttpClient _http;

    public GatewayClient(Uri baseAddress, string? apiKey)
    {
        BaseAddress = baseAddress;
        // Uploads and result downloads can take long; the gateway's own route timeouts bound them.
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        if (apiKey is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("mlp", typeof(GatewayClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
        HasKey = apiKey is not null;
    }

    public Uri BaseAddress { get; }

    public bool HasKey { get; }

    public Task<JsonNode?> GetJsonAsync(string path, CancellationToken ct) =>
        SendJsonAsync(new HttpRequestMessage(HttpMethod.Get, path), ct);

    public Task<JsonNode?> SendJsonAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }
        return SendJsonAsync(request, ct);
    }

    public async Task<JsonNode?> SendJsonAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (text.Length == 0)
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new CliException(ExitCodes.Unreachable, $"{BaseAddress} answered {request.RequestUri} with something that is not JSON; is --url the gateway?");
        }
    }

    /// <summary>Sends and returns a successful response (the caller disposes it); any other answer becomes a <see cref="CliException"/>.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException(ExitCodes.Unreachable, $"Cannot reach the gateway at {BaseAddress}: {ex.Message}");
        }
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            var body = await ReadBodySafelyAsync(response, ct);
            throw new CliException(ExitCodeFor(response.StatusCode), DescribeError(response.StatusCode, body, HasKey));
        }
    }

    public static int ExitCodeFor(HttpStatusCode status) => status switch
    {
        HttpStatusCode.NotFound => ExitCodes.NotFound,
        >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError => ExitCodes.Refused,
        _ => ExitCodes.Unreachable,
    };

    /// <summary>One line from a problem details (<c>detail</c>, else <c>title</c>), a V2 <c>{"error"}</c>, or the status.</summary>
    public static string DescribeError(HttpStatusCode status, string body, bool hadKey)
    {
        string? message = null;
        try
        {
            if (JsonNode.Parse(body) is JsonObject json)
            {
                message = Text(json["detail"]) ?? Text(json["error"]) ?? Text(json["title"]);
                if (json["errors"] is JsonObject errors)
                {
                    var details = errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value?.AsArray().Select(v => v?.ToString()) ?? [])}");
                    message = $"{message} ({string.Join("; ", details)})";
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy page, a Kestrel 431): fall back to the status.
        }
        message ??= body.Length is > 0 and < 200 ? body.Trim() : null;
        var prefix = $"{(int)status} {ReasonPhrase(status)}";
        if (status == HttpStatusCode.Unauthorized)
        {
            var hint = hadKey
                ? "the API key was not accepted; check --api-key, $MLP_API_KEY or run 'mlp login'"
                : "no API key given; pass --api-key, set $MLP_API_KEY or run 'mlp login'";
            return $"{prefix}: {hint}.";
        }
        return message is null ? prefix : $"{prefix}: {message}";
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;

    private static string ReasonPhrase(HttpStatusCode status) =>
        new HttpResponseMessage(status).ReasonPhrase ?? status.ToString();

    private static async Task<string> ReadBodySafelyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return await response.Content.ReadAsStringAsync(ct);
        }
        catch (HttpRequestException)
        {
            return "";
        }
    }

    public static string Escape(string segment) => Uri.EscapeDataString(segment);

    public void Dispose() => _http.Dispose();
}
