using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace MlPlatform.IntegrationTests.Gateway;

[Collection(GatewayLimitsCollection.Name)]
public sealed class GatewayLimitsTests(GatewayLimitsFixture platform, ITestOutputHelper output)
{
    /// <summary>Long enough for a paused Redis to stall the batch scorer well past the 1 s route timeout, short of its client's 5 s timeout.</summary>
    private const int RedisPauseMilliseconds = 3000;

    [Fact]
    public async Task AReaderKeyOverItsRateGets429WithRetryAfterWhileOtherKeysPass()
    {
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        for (var i = 0; i < GatewayLimitsFixture.ReaderBurst; i++)
        {
            using var allowed = await reader.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var refused = await reader.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal(429, body.RootElement.GetProperty("status").GetInt32());
        Assert.StartsWith("This API key has used up its request rate", body.RootElement.GetProperty("detail").GetString());

        using var refusedV2 = await reader.GetAsync("/v2/models/iris").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedV2.StatusCode);
        Assert.NotNull(refusedV2.Headers.RetryAfter);
        using var v2Body = JsonDocument.Parse(await refusedV2.Content.ReadAsStringAsync());
        Assert.StartsWith("This API key has used up its request rate", v2Body.RootElement.GetProperty("error").GetString());

        using var admin = platform.CreateGatewayClient(PlatformFixture.AdminApiKey);
        using var other = await admin.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        using var anonymous = platform.CreateGatewayClient(apiKey: null);
        using var health = await anonymous.GetAsync("/v2/health/live").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task AnInferenceBodyOverItsLimitGets413FromTheGateway()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.AdminApiKey);
        using var content = new ByteArrayContent(new byte[GatewayLimitsFixture.InferenceBodyLimit + 1]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        using var response = await client.PostAsync("/v2/models/iris/infer", content).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(response.Headers.Server);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(
            $"The request body of {GatewayLimitsFixture.InferenceBodyLimit + 1} bytes exceeds this route's limit of {GatewayLimitsFixture.InferenceBodyLimit} bytes ('inference').",
            body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AChunkedInferenceBodyOverItsLimitGets413NamingTheLimit()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.AdminApiKey);
        // A served model: the scorer reads the body of a known model (an unknown one is answered 404 before its body is read).
        var name = Online.OnlineScorerClient.UniqueName("chunked");
        var (version, _) = await Online.OnlineScorerClient.RegisterAsync(client, name, "linear-v1.onnx");
        await Online.OnlineScorerClient.SetAliasAsync(client, name, "production", version);
        // No Content-Length: the gateway cannot refuse it from its headers; the server cuts it off at the route's limit.
        using var content = new StreamContent(new MemoryStream(new byte[GatewayLimitsFixture.InferenceBodyLimit + 4096]));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{name}/infer") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await client.SendAsync(request).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith($"The request body exceeds this route's limit of {GatewayLimitsFixture.InferenceBodyLimit} bytes",
            body.RootElement.GetProperty("error").GetString());
    }

    /// <summary>
    /// A body over the limit that the client goes on sending (HttpClient reads no answer before its body is sent): the gateway answers
    /// from the declared length, then reads and drops the rest, so the client reads its 413 instead of a reset connection. Sent in full
    /// (8 MiB: more than the loopback socket buffers take, so the client is still writing when the answer is made; past the server's 1 MiB
    /// default body limit, which the drain must not be held to) and sent slowly (in pieces, with pauses).
    /// </summary>
    [Theory]
    [InlineData("/v2/models/iris/infer", false)]
    [InlineData("/v2/models/iris/infer", true)]
    [InlineData("/v1/models/iris/feedback", false)]
    public async Task ABodyOverTheLimitThatTheClientGoesOnSendingGetsIts413WithItsBody(string path, bool slowly)
    {
        var watch = Stopwatch.StartNew();
        const int length = 8 << 20;
        using var client = platform.CreateGatewayClient(PlatformFixture.AdminApiKey);
        using HttpContent content = slowly ? new SlowContent(length, pieces: 32, pause: TimeSpan.FromMilliseconds(50)) : new ByteArrayContent(new byte[length]);
        content.Headers.ContentType = new MediaTypeHeaderValue(path.StartsWith("/v2", StringComparison.Ordinal) ? "application/octet-stream" : "application/json");

        using var response = await client.PostAsync(path, content).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(response.Headers.Server);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var limit = path.StartsWith("/v2", StringComparison.Ordinal) ? $"{GatewayLimitsFixture.InferenceBodyLimit} bytes ('inference')" : "1048576 bytes ('default')";
        var expected = $"The request body of {length} bytes exceeds this route's limit of {limit}.";
        if (path.StartsWith("/v2", StringComparison.Ordinal))
        {
            Assert.Equal(expected, body.RootElement.GetProperty("error").GetString());
        }
        else
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(413, body.RootElement.GetProperty("status").GetInt32());
            Assert.Equal(expected, body.RootElement.GetProperty("detail").GetString());
        }
        output.WriteLine($"413 for a {length}-byte body sent {(slowly ? "slowly" : "in full")} to {path}: {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task AnInferenceBodyWithinItsLimitReachesTheBackend()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.AdminApiKey);
        using var content = new ByteArrayContent(new byte[GatewayLimitsFixture.InferenceBodyLimit]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        using var response = await client.PostAsync("/v2/models/iris/infer", content).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.NotEqual(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.NotEmpty(response.Headers.Server);
    }

    [Fact]
    public async Task AnUploadIsHeldToTheUploadLimitNotTheInferenceOne()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.AdminApiKey);
        using var content = new ByteArrayContent(new byte[4 * GatewayLimitsFixture.InferenceBodyLimit]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        using var response = await client.PostAsync("/v1/models/iris/versions", content).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.NotEqual(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.NotEmpty(response.Headers.Server);
    }

    [Fact]
    public async Task ABackendStalledPastTheRouteTimeoutGets504AndTheNextRequestSucceeds()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.AdminApiKey);
        await using var pause = await PauseRedisAsync();

        using var response = await client.GetAsync("/v1/batch/jobs").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(504, body.RootElement.GetProperty("status").GetInt32());
        // The message states the route's timeout and the time really waited.
        Assert.Matches(@"^The backend did not answer within this route's timeout of 1 s \('download'\); waited \d+(\.\d)? s\.$", body.RootElement.GetProperty("detail").GetString());

        await Task.Delay(RedisPauseMilliseconds);
        using var next = await client.GetAsync("/v1/batch/jobs").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task RequestsBeyondTheGlobalConcurrencyLimitGet429()
    {
        using var client = platform.CreateGatewayClient(PlatformFixture.AdminApiKey);

        // An upload whose body the test holds back keeps the only slot for as long as the test wants. If a read wins the slot
        // in the instant the upload arrives, the upload itself is refused; it is then sent again.
        HttpResponseMessage? refused = null;
        for (var attempt = 0; attempt < 5 && refused is null; attempt++)
        {
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var body = new HeldBackContent(release.Task);
            var held = client.PostAsync("/v1/models/limits-held-upload/versions", body);
            await body.Started.WaitAsync(PlatformFixture.RequestTimeout);

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (refused is null && !held.IsCompleted && DateTime.UtcNow < deadline)
            {
                var response = await client.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    refused = response;
                }
                else
                {
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    response.Dispose();
                    await Task.Delay(20);
                }
            }

            release.SetResult();
            if (refused is null)
            {
                // The upload lost the slot: refused before its body was sent, it may end as a 429 or, as the gateway closes the
                // connection on the unread body, as a reset. Either way it is sent again.
                try
                {
                    (await held.WaitAsync(PlatformFixture.RequestTimeout)).Dispose();
                }
                catch (HttpRequestException)
                {
                }
                continue;
            }
            using var heldResponse = await held.WaitAsync(PlatformFixture.RequestTimeout);
            // The held request was forwarded: the registry, not the limiter, answered it (the bytes are no ONNX model).
            Assert.Equal(HttpStatusCode.UnprocessableEntity, heldResponse.StatusCode);
        }

        Assert.NotNull(refused);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        using (var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
        {
            Assert.Equal("The gateway is at its concurrency limit; retry after 1 s.", error.RootElement.GetProperty("detail").GetString());
        }
        refused.Dispose();

        using var next = await client.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    /// <summary>A body of a declared length sent in pieces with a pause after each: a client still sending long after the answer was made.</summary>
    private sealed class SlowContent(int length, int pieces, TimeSpan pause) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var piece = new byte[length / pieces];
            for (var i = 0; i < pieces; i++)
            {
                await stream.WriteAsync(piece);
                await stream.FlushAsync();
                await Task.Delay(pause);
            }
        }

        protected override bool TryComputeLength(out long computed)
        {
            computed = length;
            return true;
        }
    }

    /// <summary>A request body that sends its first bytes, then waits for the test before sending the rest.</summary>
    private sealed class HeldBackContent : HttpContent
    {
        private readonly Task _release;
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HeldBackContent(Task release)
        {
            _release = release;
            Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }

        public Task Started => _started.Task;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes("not an onnx model, "));
            await stream.FlushAsync();
            _started.TrySetResult();
            await _release;
            await stream.WriteAsync(Encoding.ASCII.GetBytes("just bytes"));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>
    /// Stalls every Redis client (the batch scorer's included) for <see cref="RedisPauseMilliseconds"/>: a real backend, really slow.
    /// The returned connection must stay open meanwhile: closing it at once was seen to end the pause early.
    /// </summary>
    private async Task<StackExchange.Redis.ConnectionMultiplexer> PauseRedisAsync()
    {
        var connectionString = await platform.App.GetConnectionStringAsync("redis").AsTask().WaitAsync(PlatformFixture.RequestTimeout);
        var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(connectionString + ",allowAdmin=true")
            .WaitAsync(PlatformFixture.RequestTimeout);
        await redis.GetServers().Single().ExecuteAsync("CLIENT", "PAUSE", RedisPauseMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "ALL")
            .WaitAsync(PlatformFixture.RequestTimeout);
        return redis;
    }
}
