using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Limits;

/// <summary>Issue 16, the gateway: one key cannot hold every slot, admins keep their own, and a trickled body is cut.</summary>
[Collection(LimitsCollection.Name)]
public sealed class GatewaySlotsTests(LimitsFixture platform)
{
    private const string LinearRequest = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}";

    [Fact]
    public async Task AReaderHoldingSlowUploadsGetsTooManyRequestsWhileAdminsAndOtherReadersAreServed()
    {
        using var admin = platform.CreateGatewayClient();
        var name = UniqueName("slots");
        var (version, _) = await RegisterAsync(admin, name, "linear-v1.onnx");
        await SetAliasAsync(admin, name, "production", version);
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var otherReader = platform.CreateGatewayClient(LimitsFixture.SecondReaderApiKey);
        // Warm both paths, so that the timings below measure waiting for a slot, not a first call.
        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync(otherReader, $"/v2/models/{name}/infer", LinearRequest)).Status);
        (await admin.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout)).Dispose();

        // The reader's share of open requests, held by bodies sent at ~20 KB/s (above the least data rate, so they stay open).
        using var release = new CancellationTokenSource();
        var held = Enumerable.Range(0, LimitsFixture.ReaderOpenRequests)
            .Select(_ => SendSlowlyAsync(reader, $"/v2/models/{name}/infer", 2_000_000, 20 * 1024, release.Token))
            .ToList();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.All(held, task => Assert.False(task.IsCompleted, "a slow upload is still open"));

        var (status, body, refused) = await PostJsonAsync(reader, $"/v2/models/{name}/infer", LinearRequest);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal($"This API key already has {LimitsFixture.ReaderOpenRequests} requests open, its share; retry after 1 s.",
            body.RootElement.GetProperty("error").GetString());

        var clock = Stopwatch.StartNew();
        using (var models = await admin.GetAsync("/v1/models").WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the admin's GET /v1/models took {clock.Elapsed.TotalMilliseconds:F0} ms");

        clock.Restart();
        var (otherStatus, _, _) = await PostJsonAsync(otherReader, $"/v2/models/{name}/infer", LinearRequest);
        Assert.Equal(HttpStatusCode.OK, otherStatus);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the other reader's infer took {clock.Elapsed.TotalMilliseconds:F0} ms");

        await release.CancelAsync();
        foreach (var task in held)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => task);
        }
        // The share is given back with the requests.
        await EventuallyAsync(async () => (await PostJsonAsync(reader, $"/v2/models/{name}/infer", LinearRequest)).Status == HttpStatusCode.OK,
            "the reader is served again");
    }

    [Fact]
    public async Task AOneKilobytePerSecondTrickleIsCutAfterTheGracePeriod()
    {
        using var admin = platform.CreateGatewayClient();
        var name = UniqueName("trickle");
        var (version, _) = await RegisterAsync(admin, name, "linear-v1.onnx");
        await SetAliasAsync(admin, name, "production", version);
        using var reader = platform.CreateGatewayClient(LimitsFixture.SecondReaderApiKey);

        // 1 KB/s for a 100 KB body would hold the slot for 100 s; the gateway's least rate (10 KB/s after 5 s) ends it well before
        // the 30 s inference timeout (which would answer 504).
        var clock = Stopwatch.StartNew();
        var outcome = await Record.ExceptionAsync(async () =>
        {
            using var response = await SendSlowlyAsync(reader, $"/v2/models/{name}/infer", 100_000, 1024, CancellationToken.None);
            Assert.True(response.StatusCode is not HttpStatusCode.OK and not HttpStatusCode.GatewayTimeout,
                $"the trickle was answered {(int)response.StatusCode}");
        });
        Assert.True(outcome is null or HttpRequestException or IOException, $"unexpected {outcome}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the trickle stayed open {clock.Elapsed.TotalSeconds:F0} s");
    }

    private static Task<HttpResponseMessage> SendSlowlyAsync(HttpClient client, string path, int length, int bytesPerSecond, CancellationToken cancellationToken)
    {
        var content = new StreamContent(new TrickleStream(length, bytesPerSecond));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentLength = length;
        return client.PostAsync(path, content, cancellationToken);
    }

    /// <summary>A body of spaces sent at about <paramref name="bytesPerSecond"/>, in ten pieces a second.</summary>
    private sealed class TrickleStream(int length, int bytesPerSecond) : Stream
    {
        private int _sent;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _sent; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_sent >= length)
            {
                return 0;
            }
            await Task.Delay(100, cancellationToken);
            var piece = Math.Min(Math.Min(buffer.Length, Math.Max(1, bytesPerSecond / 10)), length - _sent);
            buffer.Span[..piece].Fill((byte)' ');
            _sent += piece;
            return piece;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
