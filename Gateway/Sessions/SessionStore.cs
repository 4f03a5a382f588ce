using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Auth;

namespace MlPlatform.Gateway.Sessions;

/// <summary>One signed-in console session: the key's identity (never the key), its CSRF token and its lifetime.</summary>
public sealed record ConsoleSession(ApiKeyIdentity Identity, string CsrfToken, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt)
{
    /// <summary>Last use; a session unused for the idle timeout ends.</summary>
    public DateTimeOffset LastSeen { get; set; } = CreatedAt;
}

/// <summary>The outcome of <see cref="SessionStore.Create"/>: the cookie value to hand out, or null when the store is full.</summary>
public sealed record CreatedSession(string Token, ConsoleSession Session);

/// <summary>
/// The gateway's sessions, in memory, by the SHA-256 of their token (a memory dump does not hand out live cookies).
/// Bounded twice: all keys together (<see cref="SessionOptions.MaxSessions"/>, then sign-in is refused) and per key
/// (<see cref="SessionOptions.MaxSessionsPerKey"/>, then that key's oldest session ends), so one key cannot crowd others out.
/// </summary>
public sealed class SessionStore(IOptions<SessionOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, ConsoleSession> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _createLock = new();

    public int Count => _sessions.Count;

    /// <summary>Starts a session for <paramref name="identity"/>; null when <see cref="SessionOptions.MaxSessions"/> live sessions exist.</summary>
    public CreatedSession? Create(ApiKeyIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var settings = options.Value;
        var now = time.GetUtcNow();
        lock (_createLock)
        {
            RemoveExpired(now);
            var own = _sessions.Where(s => s.Value.Identity.Id == identity.Id).OrderBy(s => s.Value.CreatedAt).ToList();
            for (var i = 0; i <= own.Count - settings.MaxSessionsPerKey; i++)
            {
                _sessions.TryRemove(own[i].Key, out _);
            }
            if (_sessions.Count >= settings.MaxSessions)
            {
                return null;
            }
            var token = NewToken();
            var session = new ConsoleSession(identity, NewToken(), now, now.AddHours(settings.AbsoluteTimeoutHours));
            _sessions[Digest(token)] = session;
            return new CreatedSession(token, session);
        }
    }

    /// <summary>The live session of <paramref name="token"/>, marked as used now; null for an unknown, ended or expired one.</summary>
    public ConsoleSession? Find(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return null;
        }
        var digest = Digest(token);
        if (!_sessions.TryGetValue(digest, out var session))
        {
            return null;
        }
        var now = time.GetUtcNow();
        if (IsExpired(session, now))
        {
            _sessions.TryRemove(digest, out _);
            return null;
        }
        session.LastSeen = now;
        return session;
    }

    /// <summary>Ends the session of <paramref name="token"/>; false when there was none.</summary>
    public bool Remove(string? token) => !string.IsNullOrEmpty(token) && _sessions.TryRemove(Digest(token), out _);

    /// <summary>Whether <paramref name="presented"/> is <paramref name="session"/>'s CSRF token (compared in constant time).</summary>
    public static bool CsrfMatches(ConsoleSession session, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(session.CsrfToken), System.Text.Encoding.ASCII.GetBytes(presented));

    private bool IsExpired(ConsoleSession session, DateTimeOffset now) =>
        now >= session.ExpiresAt || now - session.LastSeen >= TimeSpan.FromMinutes(options.Value.IdleTimeoutMinutes);

    private void RemoveExpired(DateTimeOffset now)
    {
        foreach (var (digest, session) in _sessions)
        {
            if (IsExpired(session, now))
            {
                _sessions.TryRemove(digest, out _);
            }
        }
    }

    private static string NewToken() => Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    private static string Digest(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
