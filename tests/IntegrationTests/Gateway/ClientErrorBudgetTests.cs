using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

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

    /// <summary>
    /// A key that sends only bodies over the route's limit stays under its error count, yet the gateway reads and drops each body so
    /// that the client reads its 413: that reading is bounded per key (<c>ClientErrors:MaxDrainedBytes</c>, 1 MiB here). On one
    /// connection: a 768 KiB body is answered 413 from its headers, then drained (the connection stays open and takes the next request);
    /// the next one would pass the key's bound, so its 413 comes with <c>Connection: close</c> and the connection is closed unread.
    /// </summary>
    [Fact]
    public async Task AKeyWhoseRefusedBodiesPassItsDrainBoundGetsIts413AndAClosedConnectionInsteadOfADrain()
    {
        var watch = Stopwatch.StartNew();
        await using var logs = await ResourceLogs.StartAsync(platform.App, "gateway");
        const int length = 768 << 10;
        var path = $"/v2/models/nosuch-{Guid.NewGuid():N}/infer";
        var gateway = platform.App.GetEndpoint("gateway", "http");
        using var tcp = new System.Net.Sockets.TcpClient();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await tcp.ConnectAsync(gateway.Host, gateway.Port, cancel.Token);
        var stream = tcp.GetStream();
        var head = Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: {gateway.Authority}\r\nAuthorization: Bearer {GatewayLimitsFixture.DrainingKey}\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n");
        // As written in the JSON (its encoder escapes the apostrophes of "this route's limit ... ('inference')").
        var expected = $"{{\"error\":\"The request body of {length} bytes exceeds this route";

        await stream.WriteAsync(head, cancel.Token);
        var first = await ReadAnswerAsync(stream, cancel.Token);
        Assert.StartsWith("HTTP/1.1 413", first, StringComparison.Ordinal);
        Assert.Contains(expected, first, StringComparison.Ordinal);
        Assert.DoesNotContain("Connection: close", first, StringComparison.OrdinalIgnoreCase);
        // The body after its answer, as a client that reads no answer before its body is sent would: read and dropped by the gateway.
        await stream.WriteAsync(new byte[length], cancel.Token);

        // The same connection takes the next request (so the body was read to its end); 768 KiB more would pass the key's 1 MiB.
        await stream.WriteAsync(head, cancel.Token);
        var second = await ReadAnswerAsync(stream, cancel.Token);
        Assert.StartsWith("HTTP/1.1 413", second, StringComparison.Ordinal);
        Assert.Contains(expected, second, StringComparison.Ordinal);
        Assert.Contains("Connection: close", second, StringComparison.OrdinalIgnoreCase);
        // Closed after the answer, no byte of the body asked for: end of stream (or a reset, should the kernel send one).
        try
        {
            Assert.Equal(0, await stream.ReadAsync(new byte[1024], cancel.Token));
        }
        catch (IOException)
        {
        }

        await EventuallyAsync(() => Task.FromResult(logs.Lines.Any(l => l.Contains($"API key {GatewayLimitsFixture.DrainingKeyId} had {GatewayLimitsFixture.MaxDrainedBytes} bytes of refused request bodies drained", StringComparison.Ordinal))),
            "the gateway logs the key whose refused bodies are no longer drained");
        output.WriteLine($"drain bound test: {watch.ElapsedMilliseconds} ms");
    }

    /// <summary>Reads one answer: its head, then its short JSON body (written chunked, ending with the last, empty chunk, or with a length, ending with its closing brace).</summary>
    private static async Task<string> ReadAnswerAsync(Stream stream, CancellationToken cancel)
    {
        var received = new StringBuilder();
        var buffer = new byte[1];
        while (!IsWhole(received.ToString()))
        {
            // A byte at a time: what follows the answer on the connection is the next answer (or its end), not this one's.
            if (await stream.ReadAsync(buffer, cancel) == 0)
            {
                break;
            }
            received.Append((char)buffer[0]);
        }
        return received.ToString();

        static bool IsWhole(string answer) => answer.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)
            ? answer.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal)
            : answer.Contains("\r\n\r\n", StringComparison.Ordinal) && answer.EndsWith('}');
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
