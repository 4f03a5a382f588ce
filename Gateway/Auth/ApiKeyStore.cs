using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace MlPlatform.Gateway.Auth;

/// <summary>A caller identified by its key: the key's id and role, never the key.</summary>
public sealed record ApiKeyIdentity(string Id, string Role);

/// <summary>
/// The configured keys, held only as SHA-256 digests. A presented key is hashed and compared with every digest in constant time,
/// so neither the time taken nor an early exit tells an attacker how much of a guess was right or which entry matched.
/// </summary>
public sealed class ApiKeyStore
{
    private readonly (byte[] Digest, ApiKeyIdentity Identity)[] _entries;

    public ApiKeyStore(IOptions<ApiKeyOptions> options)
        : this(options.Value)
    {
    }

    public ApiKeyStore(ApiKeyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _entries = options.Keys
            .Select(pair => (DigestOf(pair.Value), new ApiKeyIdentity(pair.Key, pair.Value.Role)))
            .ToArray();
    }

    public int Count => _entries.Length;

    /// <summary>The identity holding <paramref name="presented"/>, or null for an unknown key.</summary>
    public ApiKeyIdentity? Find(ReadOnlySpan<char> presented)
    {
        if (presented.IsEmpty || _entries.Length == 0)
        {
            return null;
        }
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(presented, digest);

        ApiKeyIdentity? found = null;
        foreach (var (expected, identity) in _entries)
        {
            // No break: every entry is compared whatever the outcome.
            if (CryptographicOperations.FixedTimeEquals(digest, expected))
            {
                found = identity;
            }
        }
        return found;
    }

    /// <summary>The SHA-256 of <paramref name="key"/>'s UTF-8 bytes as lowercase hex: the form <see cref="ApiKeyEntry.Sha256"/> takes.</summary>
    public static string Sha256Hex(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(key, digest);
        return Convert.ToHexStringLower(digest);
    }

    public static bool IsSha256Hex(string value) =>
        value.Length == SHA256.HashSizeInBytes * 2 && value.All(char.IsAsciiHexDigit);

    internal static (string First, string Second)? FindDuplicateDigest(ApiKeyOptions options)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, entry) in options.Keys)
        {
            var hex = Convert.ToHexStringLower(DigestOf(entry));
            if (!seen.TryAdd(hex, id))
            {
                return (seen[hex], id);
            }
        }
        return null;
    }

    private static byte[] DigestOf(ApiKeyEntry entry) => string.IsNullOrEmpty(entry.Key)
        ? Convert.FromHexString(entry.Sha256 ?? throw new InvalidOperationException("An API key entry has neither Key nor Sha256."))
        : SHA256.HashData(Encoding.UTF8.GetBytes(entry.Key));

    private static void Hash(ReadOnlySpan<char> key, Span<byte> digest)
    {
        var length = Encoding.UTF8.GetMaxByteCount(key.Length);
        var buffer = length <= 1024 ? stackalloc byte[length] : new byte[length];
        var written = Encoding.UTF8.GetBytes(key, buffer);
        SHA256.HashData(buffer[..written], digest);
        CryptographicOperations.ZeroMemory(buffer[..written]);
    }
}
