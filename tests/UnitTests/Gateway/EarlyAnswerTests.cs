using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using MlPlatform.Gateway.Forwarding;

namespace MlPlatform.UnitTests.Gateway;

/// <summary>Which forwarded bodies wait for the backend's <c>100 Continue</c>, and that looking at a received body leaves it whole.</summary>
public sealed class EarlyAnswerTests
{
    private const long MinBodyBytes = 64 * 1024;

    [Fact]
    public async Task ABodyReceivedInFullIsSeenAndStillReadWhole()
    {
        var body = Body(190_000);
        var (context, pipe) = Request(body.Length);
        await pipe.Writer.WriteAsync(body);
        await pipe.Writer.CompleteAsync();

        Assert.True(EarlyAnswerTransformProvider.HasArrived(context.Request));
        // Nothing was consumed: what the proxy then reads is the whole body.
        Assert.Equal(body, await ReadAllAsync(context.Request));
    }

    [Fact]
    public async Task ABodyStillArrivingWaitsForTheGoAheadAndLosesNothing()
    {
        var body = Body(190_000);
        var (context, pipe) = Request(body.Length);
        await pipe.Writer.WriteAsync(body.AsMemory(0, 100_000));

        Assert.False(EarlyAnswerTransformProvider.HasArrived(context.Request));
        await pipe.Writer.WriteAsync(body.AsMemory(100_000));
        await pipe.Writer.CompleteAsync();
        Assert.Equal(body, await ReadAllAsync(context.Request));
    }

    [Fact]
    public async Task NothingReceivedYetWaits()
    {
        var (context, pipe) = Request(190_000);

        Assert.False(EarlyAnswerTransformProvider.HasArrived(context.Request));
        await pipe.Writer.CompleteAsync();
    }

    [Fact]
    public async Task ABodyOfUnknownLengthOverKestrelsBufferOrFromAClientAskingForTheGoAheadItselfIsNotLookedAt()
    {
        var body = Body(190_000);
        var (chunked, chunkedPipe) = Request(null);
        await chunkedPipe.Writer.WriteAsync(body);
        await chunkedPipe.Writer.CompleteAsync();
        var (expecting, expectingPipe) = Request(body.Length);
        expecting.Request.Headers.Expect = "100-continue";
        await expectingPipe.Writer.WriteAsync(body);
        await expectingPipe.Writer.CompleteAsync();

        // Over Kestrel's 1 MiB request buffer a body never arrives whole at the proxy, so it is not looked at either.
        var large = Body(2 << 20);
        var (big, bigPipe) = Request(large.Length);
        await bigPipe.Writer.WriteAsync(large);
        await bigPipe.Writer.CompleteAsync();

        Assert.False(EarlyAnswerTransformProvider.HasArrived(chunked.Request));
        Assert.False(EarlyAnswerTransformProvider.HasArrived(expecting.Request));
        Assert.False(EarlyAnswerTransformProvider.HasArrived(big.Request));
        Assert.Equal(large, await ReadAllAsync(big.Request));
    }

    [Theory]
    [InlineData(1_000L, "application/json", false)]
    [InlineData(MinBodyBytes, "application/json", false)]
    [InlineData(MinBodyBytes + 1, "application/json", true)]
    [InlineData(null, "application/octet-stream", true)]
    [InlineData(10_000_000L, "application/grpc", false)]
    public void LargeOrUnknownBodiesWaitExceptGrpc(long? length, string contentType, bool waits)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentLength = length;
        context.Request.ContentType = contentType;
        using var proxyRequest = new HttpRequestMessage(HttpMethod.Post, "http://backend/v2/models/m/infer") { Content = new ByteArrayContent([]) };

        Assert.Equal(waits, EarlyAnswerTransformProvider.WaitsForContinue(context.Request, proxyRequest, MinBodyBytes));
    }

    private static (DefaultHttpContext Context, Pipe Pipe) Request(long? contentLength)
    {
        // Never pausing the writer: the tests write whole bodies before anything reads them (Kestrel pauses at its 1 MiB buffer).
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var context = new DefaultHttpContext();
        context.Features.Set<IRequestBodyPipeFeature>(new BodyPipe(pipe.Reader));
        context.Request.ContentLength = contentLength;
        return (context, pipe);
    }

    private static async Task<byte[]> ReadAllAsync(HttpRequest request)
    {
        using var copy = new MemoryStream();
        await request.BodyReader.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static byte[] Body(int length)
    {
        var body = new byte[length];
        new Random(20).NextBytes(body);
        return body;
    }

    private sealed class BodyPipe(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader => reader;
    }
}
