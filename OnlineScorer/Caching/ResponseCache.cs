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
/// ids, model name and version are stamped per response. A Redis failure is a miss, never an error. The cache has a Redis of its own
/// (connection <see cref="ConnectionName"/>), bounded with <c>maxmemory</c> and <c>allkeys-lru</c>, so entries never crowd out job state.
/// </summary>
public sealed class ResponseCache(
    [FromKeyedServices(ResponseCache.ConnectionName)] IConnectionMultiplexer redis, IOptions<ResponseCacheOptions> options, ILogger<ResponseCache> logger)
{
    /// <summary>The connection string name of the cache's Redis.</summary>
    public const string ConnectionName = "redis-cache";

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
            if (lease is null || lease.Length == 0)
            {
                return null;
            }
            if (!CacheEntryCodec.TryDecode(lease.Span, out var outputs))
            {
                // Written by something else or cut short: answer from the model, whose result then replaces the entry.
                logger.LogWarning("Response cache entry {Key} is not a valid entry; treating it as a miss", key);
                return null;
            }
            return outputs;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning(ex, "Response cache read failed; treating as a miss");
            return null;
        }
    }

    /// <summary>Stores outputs with the configured TTL, unless they exceed the entry size cap.</summary>
    public async Task SetAsync(string key, IReadOnlyList<TensorBuffer> outputs)
    {
        var settings = options.Value;
        if (CacheEntryCodec.TryEncode(outputs, settings.MaxEntryBytes) is not { } entry)
        {
            return;
        }
        try
        {
            await redis.GetDatabase().StringSetAsync(key, entry, TimeSpan.FromSeconds(settings.TtlSeconds));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning(ex, "Response cache write failed");
        }
    }
}
