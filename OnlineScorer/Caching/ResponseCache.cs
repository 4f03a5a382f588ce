using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Serving;
using StackExchange.Redis;

namespace MlPlatform.OnlineScorer.Caching;

/// <summary>
/// Outputs of earlier requests in Redis, keyed by the artifact's SHA-256 and a canonical hash of the inputs (names, datatypes,
/// shapes, element bytes; the same whether they arrived as JSON or binary) and of the requested outputs. Stores outputs only:
/// ids, model name and version are stamped per response. A Redis failure is a miss, never an error.
/// </summary>
public sealed class ResponseCache(IConnectionMultiplexer redis, IOptions<ResponseCacheOptions> options, ILogger<ResponseCache> logger)
{
    private const string KeyPrefix = "mlplatform:infer-cache:";

    /// <summary>The cache key of a request to the artifact <paramref name="sha256"/>.</summary>
    public static string KeyFor(string sha256, IReadOnlyList<TensorBuffer> inputs, IReadOnlyList<string> outputNames)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> scratch = stackalloc byte[8];
        foreach (var input in inputs.OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            AppendString(hash, input.Name);
            scratch[0] = (byte)input.DataType;
            hash.AppendData(scratch[..1]);
            BinaryPrimitives.WriteInt32LittleEndian(scratch, input.Shape.Length);
            hash.AppendData(scratch[..4]);
            foreach (var dim in input.Shape)
            {
                BinaryPrimitives.WriteInt64LittleEndian(scratch, dim);
                hash.AppendData(scratch);
            }
            BinaryPrimitives.WriteInt64LittleEndian(scratch, input.ByteLength);
            hash.AppendData(scratch);
            hash.AppendData(input.Span);
        }
        foreach (var name in outputNames.Order(StringComparer.Ordinal))
        {
            AppendString(hash, name);
        }
        return KeyPrefix + sha256 + ":" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void AppendString(IncrementalHash hash, string value)
    {
        Span<byte> length = stackalloc byte[4];
        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }

    /// <summary>The cached outputs, or null on a miss (or when Redis is unavailable).</summary>
    public async Task<TensorBuffer[]?> TryGetAsync(string key)
    {
        try
        {
            using var lease = await redis.GetDatabase().StringGetLeaseAsync(key);
            return lease is null || lease.Length == 0 ? null : Decode(lease.Span);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidDataException)
        {
            logger.LogWarning(ex, "Response cache read failed; treating as a miss");
            return null;
        }
    }

    /// <summary>Stores outputs with the configured TTL, unless they exceed the entry size cap.</summary>
    public async Task SetAsync(string key, IReadOnlyList<TensorBuffer> outputs)
    {
        var writer = new ArrayBufferWriter<byte>();
        Encode(writer, outputs);
        var settings = options.Value;
        if (writer.WrittenCount > settings.MaxEntryBytes)
        {
            return;
        }
        try
        {
            await redis.GetDatabase().StringSetAsync(key, writer.WrittenMemory, TimeSpan.FromSeconds(settings.TtlSeconds));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning(ex, "Response cache write failed");
        }
    }

    /// <summary>Entry layout: count, then per tensor name, datatype, rank, dimensions, byte length, bytes (little-endian).</summary>
    internal static void Encode(IBufferWriter<byte> writer, IReadOnlyList<TensorBuffer> outputs)
    {
        WriteInt32(writer, outputs.Count);
        foreach (var output in outputs)
        {
            var name = Encoding.UTF8.GetBytes(output.Name);
            WriteInt32(writer, name.Length);
            writer.Write(name);
            writer.Write([(byte)output.DataType]);
            WriteInt32(writer, output.Shape.Length);
            foreach (var dim in output.Shape)
            {
                var span = writer.GetSpan(8);
                BinaryPrimitives.WriteInt64LittleEndian(span, dim);
                writer.Advance(8);
            }
            WriteInt32(writer, output.ByteLength);
            writer.Write(output.Span);
        }
    }

    private static void WriteInt32(IBufferWriter<byte> writer, int value)
    {
        var span = writer.GetSpan(4);
        BinaryPrimitives.WriteInt32LittleEndian(span, value);
        writer.Advance(4);
    }

    internal static TensorBuffer[] Decode(ReadOnlySpan<byte> data)
    {
        var offset = 0;
        int ReadInt32(ReadOnlySpan<byte> d)
        {
            if (d.Length - offset < 4) throw new InvalidDataException("Truncated cache entry.");
            var v = BinaryPrimitives.ReadInt32LittleEndian(d[offset..]);
            offset += 4;
            return v;
        }
        var count = ReadInt32(data);
        var outputs = new List<TensorBuffer>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var nameLength = ReadInt32(data);
                var name = Encoding.UTF8.GetString(data.Slice(offset, nameLength));
                offset += nameLength;
                var type = (TensorDataType)data[offset++];
                var rank = ReadInt32(data);
                var shape = new long[rank];
                for (var d = 0; d < rank; d++)
                {
                    shape[d] = BinaryPrimitives.ReadInt64LittleEndian(data[offset..]);
                    offset += 8;
                }
                var length = ReadInt32(data);
                var tensor = type == TensorDataType.Bytes ? TensorBuffer.RentBytes(name, shape, length) : TensorBuffer.Rent(name, type, shape);
                outputs.Add(tensor);
                if (tensor.ByteLength != length)
                {
                    throw new InvalidDataException("Cache entry does not match its shape.");
                }
                data.Slice(offset, length).CopyTo(tensor.Span);
                offset += length;
            }
            return outputs.ToArray();
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            foreach (var output in outputs)
            {
                output.Dispose();
            }
            throw new InvalidDataException("Corrupt cache entry.", ex);
        }
        catch
        {
            foreach (var output in outputs)
            {
                output.Dispose();
            }
            throw;
        }
    }
}
