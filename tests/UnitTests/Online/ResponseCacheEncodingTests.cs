using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Caching;
using static MlPlatform.UnitTests.Inference.TestModels;

namespace MlPlatform.UnitTests.Online;

/// <summary>The response cache's entries (outputs as stored in Redis) and keys (what makes two requests the same).</summary>
public sealed class ResponseCacheEncodingTests
{
    private const string Sha = "0f343b0931126a20f133d67c2b018a3b5e2e2e3e5dcb2f2d2a6e11cbd4c4a4b1";

    private static readonly ModelSignature TwoInputs = new(
        [new TensorSpec("a", "FP32", [-1, 2]), new TensorSpec("b", "BYTES", [-1])],
        [new TensorSpec("scores", "FP32", [-1, 2]), new TensorSpec("labels", "BYTES", [-1])]);

    public static TheoryData<TensorDataType> FixedSizeTypes() =>
        new(Enum.GetValues<TensorDataType>().Where(t => t != TensorDataType.Bytes));

    [Theory]
    [MemberData(nameof(FixedSizeTypes))]
    public void EveryFixedSizeDatatypeRoundTrips(TensorDataType type)
    {
        var random = new Random((int)type);
        var bytes = new byte[6 * type.ElementSize()];
        random.NextBytes(bytes);
        if (type == TensorDataType.Bool)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] &= 1;
            }
        }
        using var typed = TensorBuffer.FromRented("out", type, [2, 3], CopyToRented(bytes), bytes.Length);

        var decoded = RoundTrip([typed]);

        AssertSame([typed], decoded);
    }

    [Fact]
    public void BytesFp16ScalarsAndEmptyTensorsRoundTripTogetherInOneEntry()
    {
        using var strings = TensorBuffer.FromStrings("labels", [2, 2], ["", "ü€ unicode", "plain", new string('x', 300)]);
        using var halves = TensorBuffer.FromValues<Half>("half", TensorDataType.FP16, [4], [(Half)1.5f, (Half)(-0f), Half.NaN, Half.MaxValue]);
        using var scalar = TensorBuffer.FromValues<double>("scalar", TensorDataType.FP64, [], [Math.PI]);
        using var empty = TensorBuffer.FromValues<long>("empty", TensorDataType.Int64, [0, 3], []);
        using var noStrings = TensorBuffer.FromStrings("none", [0], []);

        var decoded = RoundTrip([strings, halves, scalar, empty, noStrings]);

        AssertSame([strings, halves, scalar, empty, noStrings], decoded);
        Assert.Equal(["", "ü€ unicode", "plain", new string('x', 300)], decoded[0].ToStrings());
        Assert.Equal([(Half)1.5f, (Half)(-0f), Half.NaN, Half.MaxValue], decoded[1].AsSpan<Half>().ToArray());
        Dispose(decoded);
    }

    [Fact]
    public void TheSameInputsGiveTheSameKeyWhateverTheirJsonFormOrderOrEncoding()
    {
        using var flat = Read("""{"id":"1","inputs":[{"name":"a","shape":[2,2],"datatype":"FP32","data":[1,2,3,4.5]},{"name":"b","shape":[2],"datatype":"BYTES","data":["x","héllo"]}]}""", TwoInputs);
        using var nested = Read("""{"inputs":[{"datatype":"BYTES","data":["x","h\u00e9llo"],"shape":[2],"name":"b"},{"data":[[1.0,2e0],[3,4.50]],"name":"a","datatype":"FP32","shape":[2,2]}],"id":"2"}""", TwoInputs);
        using var a = TensorBuffer.FromValues<float>("a", TensorDataType.FP32, [2, 2], [1, 2, 3, 4.5f]);
        using var b = TensorBuffer.FromStrings("b", [2], ["x", "héllo"]);
        var (body, jsonLength) = Encode([b, a], binary: true);
        using var binary = InferRequestReader.Read(body, jsonLength, TwoInputs, InferRequestLimits.None);

        var key = ResponseCache.KeyFor(Sha, flat.Inputs, ["scores", "labels"]);

        Assert.StartsWith($"mlplatform:infer-cache:{Sha}:", key);
        Assert.Equal(key, ResponseCache.KeyFor(Sha, nested.Inputs, ["scores", "labels"]));
        Assert.Equal(key, ResponseCache.KeyFor(Sha, binary.Inputs, ["labels", "scores"]));
    }

    [Fact]
    public void OtherOutputsAnotherArtifactOrOtherInputsGiveAnotherKey()
    {
        using var a = TensorBuffer.FromValues<float>("a", TensorDataType.FP32, [2, 2], [1, 2, 3, 4.5f]);
        var key = ResponseCache.KeyFor(Sha, [a], ["scores", "labels"]);
        using var otherValue = TensorBuffer.FromValues<float>("a", TensorDataType.FP32, [2, 2], [1, 2, 3, 4.25f]);
        using var otherShape = TensorBuffer.FromValues<float>("a", TensorDataType.FP32, [1, 4], [1, 2, 3, 4.5f]);
        using var otherType = TensorBuffer.FromRented("a", TensorDataType.Int32, [2, 2], CopyToRented(a.Span.ToArray()), a.ByteLength);
        using var otherName = TensorBuffer.FromValues<float>("c", TensorDataType.FP32, [2, 2], [1, 2, 3, 4.5f]);

        string[] others =
        [
            ResponseCache.KeyFor(Sha, [a], ["scores"]),
            ResponseCache.KeyFor(Sha, [a], ["labels"]),
            ResponseCache.KeyFor(Sha.Replace('0', '1'), [a], ["scores", "labels"]),
            ResponseCache.KeyFor(Sha, [otherValue], ["scores", "labels"]),
            ResponseCache.KeyFor(Sha, [otherShape], ["scores", "labels"]),
            ResponseCache.KeyFor(Sha, [otherType], ["scores", "labels"]),
            ResponseCache.KeyFor(Sha, [otherName], ["scores", "labels"]),
        ];

        Assert.All(others, other => Assert.NotEqual(key, other));
        Assert.Equal(others.Length, others.Distinct().Count());
    }

    [Fact]
    public void AnEntryAboveTheSizeCapIsNotEncodedForStorage()
    {
        using var scores = TensorBuffer.FromValues<float>("scores", TensorDataType.FP32, [64], new float[64]);
        var length = CacheEntryCodec.GetEncodedLength([scores]);
        var written = new ArrayBufferWriter<byte>();
        CacheEntryCodec.Encode(written, [scores]);

        Assert.Equal(written.WrittenCount, length);
        Assert.Null(CacheEntryCodec.TryEncode([scores], (int)length - 1));
        Assert.Equal(written.WrittenSpan.ToArray(), CacheEntryCodec.TryEncode([scores], (int)length));
    }

    [Fact]
    public void EveryTruncationAndTrailingGarbageIsRejected()
    {
        using var strings = TensorBuffer.FromStrings("labels", [2], ["a", "bcd"]);
        using var halves = TensorBuffer.FromValues<Half>("half", TensorDataType.FP16, [2], [(Half)1, (Half)2]);
        var entry = CacheEntryCodec.TryEncode([strings, halves], int.MaxValue)!;

        for (var length = 0; length < entry.Length; length++)
        {
            Assert.False(CacheEntryCodec.TryDecode(entry.AsSpan(0, length), out _), $"an entry cut to {length} of {entry.Length} bytes");
        }
        Assert.False(CacheEntryCodec.TryDecode([.. entry, 0], out _));
    }

    public static TheoryData<string, byte[]> CorruptEntries() => new()
    {
        { "negative count", Entry(w => w.Int32(-1)) },
        { "count far beyond the entry", Entry(w => w.Int32(int.MaxValue)) },
        { "negative name length", Entry(w => w.Int32(1).Int32(-1)) },
        { "unknown datatype", Entry(w => w.Int32(1).Name("x").Byte(0xFF).Int32(0).Int32(0)) },
        { "negative rank", Entry(w => w.Int32(1).Name("x").Byte((byte)TensorDataType.FP32).Int32(-1)) },
        { "rank beyond the entry", Entry(w => w.Int32(1).Name("x").Byte((byte)TensorDataType.FP32).Int32(int.MaxValue)) },
        { "negative dimension", Entry(w => w.Int32(1).Name("x").Byte((byte)TensorDataType.FP32).Int32(1).Int64(-1).Int32(0)) },
        { "overflowing shape", Entry(w => w.Int32(1).Name("x").Byte((byte)TensorDataType.FP32).Int32(2).Int64(1L << 62).Int64(1L << 62).Int32(0)) },
        { "shape of 2 floats with 4 bytes", Entry(w => w.Int32(1).Name("x").Byte((byte)TensorDataType.FP32).Int32(1).Int64(2).Int32(4).Int32(0)) },
        { "negative byte length", Entry(w => w.Int32(1).Name("x").Byte((byte)TensorDataType.FP32).Int32(1).Int64(0).Int32(-4)) },
        { "string longer than its tensor", Entry(w => w.Int32(1).Name("x").Byte((byte)TensorDataType.Bytes).Int32(1).Int64(1).Int32(5).Int32(9).Byte(1)) },
        { "negative string length", Entry(w => w.Int32(1).Name("x").Byte((byte)TensorDataType.Bytes).Int32(1).Int64(1).Int32(4).Int32(-1)) },
        { "fewer strings than the shape", Entry(w => w.Int32(1).Name("x").Byte((byte)TensorDataType.Bytes).Int32(1).Int64(2).Int32(5).Int32(1).Byte(65)) },
        { "more strings than the shape", Entry(w => w.Int32(1).Name("x").Byte((byte)TensorDataType.Bytes).Int32(1).Int64(1).Int32(8).Int32(0).Int32(0)) },
    };

    [Theory]
    [MemberData(nameof(CorruptEntries))]
    public void ACorruptEntryIsRejectedWithoutThrowing(string corruption, byte[] entry)
    {
        Assert.False(CacheEntryCodec.TryDecode(entry, out var outputs), corruption);
        Assert.Null(outputs);
    }

    [Fact]
    public void RandomlyDamagedEntriesNeverThrowAndDecodeOnlyIntoConsistentTensors()
    {
        using var strings = TensorBuffer.FromStrings("labels", [3], ["a", "bcd", ""]);
        using var scores = TensorBuffer.FromValues<float>("scores", TensorDataType.FP32, [2, 2], [1, 2, 3, 4]);
        var entry = CacheEntryCodec.TryEncode([strings, scores], int.MaxValue)!;
        var random = new Random(7);

        for (var attempt = 0; attempt < 5000; attempt++)
        {
            var damaged = (byte[])entry.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            }
            if (CacheEntryCodec.TryDecode(damaged, out var outputs))
            {
                foreach (var output in outputs)
                {
                    if (output.DataType == TensorDataType.Bytes)
                    {
                        Assert.Equal(output.ElementCount, output.ToStrings().Length);
                    }
                    else
                    {
                        Assert.Equal(output.ElementCount * output.DataType.ElementSize(), output.ByteLength);
                    }
                }
                Dispose(outputs);
            }
        }
    }

    private static TensorBuffer[] RoundTrip(IReadOnlyList<TensorBuffer> outputs)
    {
        var entry = CacheEntryCodec.TryEncode(outputs, int.MaxValue);
        Assert.NotNull(entry);
        Assert.True(CacheEntryCodec.TryDecode(entry, out var decoded));
        return decoded;
    }

    private static void AssertSame(IReadOnlyList<TensorBuffer> expected, IReadOnlyList<TensorBuffer> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Name, actual[i].Name);
            Assert.Equal(expected[i].DataType, actual[i].DataType);
            Assert.Equal(expected[i].Shape, actual[i].Shape);
            Assert.Equal(expected[i].ElementCount, actual[i].ElementCount);
            Assert.Equal(expected[i].Span.ToArray(), actual[i].Span.ToArray());
        }
    }

    private static byte[] CopyToRented(byte[] bytes)
    {
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(1, bytes.Length));
        bytes.CopyTo(rented, 0);
        return rented;
    }

    private static void Dispose(IEnumerable<TensorBuffer> tensors)
    {
        foreach (var tensor in tensors)
        {
            tensor.Dispose();
        }
    }

    private static byte[] Entry(Action<EntryWriter> write)
    {
        var writer = new EntryWriter();
        write(writer);
        return writer.Bytes.ToArray();
    }

    /// <summary>Writes entries field by field, to forge the ones <see cref="CacheEntryCodec.Encode"/> never writes.</summary>
    private sealed class EntryWriter
    {
        public List<byte> Bytes { get; } = [];

        public EntryWriter Int32(int value)
        {
            Span<byte> span = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(span, value);
            Bytes.AddRange(span);
            return this;
        }

        public EntryWriter Int64(long value)
        {
            Span<byte> span = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(span, value);
            Bytes.AddRange(span);
            return this;
        }

        public EntryWriter Byte(byte value)
        {
            Bytes.Add(value);
            return this;
        }

        public EntryWriter Name(string name)
        {
            var utf8 = Encoding.UTF8.GetBytes(name);
            Int32(utf8.Length);
            Bytes.AddRange(utf8);
            return this;
        }
    }
}
