using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace MlPlatform.IntegrationTests.Gateway;

/// <summary>
/// The client-error budget (<c>ClientErrors</c>): a key whose requests got <see cref="GatewayLimitsFixture.ClientErrorBudget"/> client
/// errors is refused at the gateway for the cool-down, before its body is read, while other keys go on; then it is served again.
/// </summary>
[Collection(GatewayLimitsCollection.Name)]
public sealed class ClientErrorBudgetTests(GatewayLimitsFixture platform, ITestOutputHelper output)
{
    [Fact]
    public async Task AKeyThatUsedUpItsClientErrorBudgetGets429BeforeItsBodyIsReadUntilItsCoolDownEnds()
    {
        var watch = Stopwatch.StartNew();
        using var erring = platform.CreateGatewayClient(GatewayLimitsFixture.ErringKey);
        var unknown = $"/v2/models/nosuch-{Guid.NewGuid():N}/infer";
        for (var i = 0; i < GatewayLimitsFixture.ClientErrorBudget; i++)
        {
            // Forwarded: the scorer answers each one (the budget counts answers, not guesses).
            using var notFound = await erring.PostAsync(unknown, Json()).WaitAsync(PlatformFixture.RequestTimeout);
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        }
        var coolingFrom = Stopwatch.GetTimestamp();

        // Headers only, a body declared and never sent: answered at once, so from the headers, with nothing forwarded.
        var answer = await HeadersOnlyAsync(unknown, GatewayLimitsFixture.ErringKey);
        Assert.StartsWith("HTTP/1.1 429", answer, StringComparison.Ordinal);
        Assert.Contains("Retry-After: ", answer, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"\"error\":\"This API key got {GatewayLimitsFixture.ClientErrorBudget} client errors (4xx) within 10 s and is refused for 5 s; retry after ",
            answer, StringComparison.Ordinal);

        // Any route, any body: a V1 read too, answered in the problem format with the wait.
        using var refused = await erring.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), GatewayLimitsFixture.ClientErrorCoolDown);
        using (var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
        {
            Assert.Equal(429, problem.RootElement.GetProperty("status").GetInt32());
            Assert.StartsWith($"This API key got {GatewayLimitsFixture.ClientErrorBudget} client errors", problem.RootElement.GetProperty("detail").GetString());
        }

        // Another key of the same role is not held to the first one's errors: its request reaches the scorer.
        using var bystander = platform.CreateGatewayClient(GatewayLimitsFixture.BystanderKey);
        using var served = await bystander.PostAsync(unknown, Json()).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, served.StatusCode);
        Assert.StartsWith("Unknown model", JsonDocument.Parse(await served.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());

        // After the cool-down the key is forwarded again.
        var left = GatewayLimitsFixture.ClientErrorCoolDown - Stopwatch.GetElapsedTime(coolingFrom) + TimeSpan.FromMilliseconds(200);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left);
        }
        using var again = await erring.PostAsync(unknown, Json()).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.StartsWith("Unknown model", JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        output.WriteLine($"client-error budget test: {watch.ElapsedMilliseconds} ms");
    }

    private static StringContent Json() => new("{\"inputs\":[]}", Encoding.UTF8, "application/json");

    /// <summary>Sends a request's headers with a 2000-byte body declared, no byte of it, and returns what arrives back.</summary>
    private async Task<string> HeadersOnlyAsync(string path, string key)
    {
        var gateway = platform.App.GetEndpoint("gateway", "http");
        using var tcp = new System.Net.Sockets.TcpClient();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await tcp.ConnectAsync(gateway.Host, gateway.Port, cancel.Token);
        var stream = tcp.GetStream();
        var head = $"POST {path} HTTP/1.1\r\nHost: {gateway.Authority}\r\nAuthorization: Bearer {key}\r\n" +
            "Content-Type: application/json\r\nContent-Length: 2000\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancel.Token);
        var received = new StringBuilder();
        var buffer = new byte[8192];
        // Until the JSON body is in: the answer is short, written chunked (it ends with the last, empty chunk) or with a length (it ends
        // with its closing brace). Then the gateway waits for the body that never comes, and closes the connection.
        while (!received.ToString().EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal) && !received.ToString().EndsWith('}'))
        {
            var read = await stream.ReadAsync(buffer, cancel.Token);
            if (read == 0)
            {
                break;
            }
            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
        return received.ToString();
    }
}
