using MlPlatform.Gateway.Limits;

namespace MlPlatform.UnitTests.Gateway;

/// <summary>The gateway's frame reader of gRPC request streams: messages pass whole and unchanged until one is refused.</summary>
public sealed class GrpcMessageLimitStreamTests
{
    private static byte[] Frame(int length, byte fill)
    {
        var frame = new byte[5 + length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)length);
        frame.AsSpan(5).Fill(fill);
        return frame;
    }

    /// <summary>Hands out at most <paramref name="chunk"/> bytes per read, as a network does.</summary>
    private sealed class Trickle(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream, int bufferSize)
    {
        var output = new MemoryStream();
        var buffer = new byte[bufferSize];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }
        return output.ToArray();
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(3, 2)]
    [InlineData(4096, 4096)]
    public async Task MessagesPassUnchangedAndEachIsAdmittedOnceWithItsLength(int chunk, int bufferSize)
    {
        byte[] body = [.. Frame(10, 1), .. Frame(0, 0), .. Frame(300, 2)];
        var admitted = new List<long>();

        var forwarded = await ReadAllAsync(new GrpcMessageLimitStream(new Trickle(body, chunk), length => { admitted.Add(length); return true; }), bufferSize);

        Assert.Equal(body, forwarded);
        Assert.Equal([10L, 0L, 300L], admitted);
    }

    [Fact]
    public async Task ARefusedMessageEndsTheBodyBeforeAnyOfItsBytes()
    {
        byte[] first = Frame(8, 1);
        byte[] body = [.. first, .. Frame(64, 2), .. Frame(8, 3)];

        var forwarded = await ReadAllAsync(new GrpcMessageLimitStream(new Trickle(body, 7), length => length < 64), 16);

        Assert.Equal(first, forwarded);
    }

    [Fact]
    public async Task AHeaderCutShortIsForwardedAsItCameForTheScorerToReport()
    {
        byte[] body = [.. Frame(4, 1), 0, 0];

        var forwarded = await ReadAllAsync(new GrpcMessageLimitStream(new Trickle(body, 5), _ => true), 16);

        Assert.Equal(body, forwarded);
    }
}
