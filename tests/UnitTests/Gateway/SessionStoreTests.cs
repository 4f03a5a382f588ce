using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Auth;
using MlPlatform.Gateway.Sessions;

namespace MlPlatform.UnitTests.Gateway;

public sealed class SessionStoreTests
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly ApiKeyIdentity Admin = new("admin", GatewayRoles.Admin);
    private static readonly ApiKeyIdentity Reader = new("dashboard", GatewayRoles.Reader);

    private readonly Clock _clock = new();

    private SessionStore Store(int max = 100, int perKey = 20, int idleMinutes = 30, int absoluteHours = 8) => new(Options.Create(new SessionOptions
    {
        MaxSessions = max, MaxSessionsPerKey = perKey, IdleTimeoutMinutes = idleMinutes, AbsoluteTimeoutHours = absoluteHours,
    }), _clock);

    [Fact]
    public void ASessionAuthenticatesAsTheKeyItWasOpenedWithUntilItIsRemoved()
    {
        var store = Store();
        var created = store.Create(Reader)!;

        Assert.Equal(Reader, store.Find(created.Token)!.Identity);
        Assert.True(store.Remove(created.Token));
        Assert.Null(store.Find(created.Token));
        Assert.False(store.Remove(created.Token));
    }

    [Fact]
    public void TokensAndCsrfTokensAreLongRandomAndDistinct()
    {
        var store = Store();
        var first = store.Create(Admin)!;
        var second = store.Create(Admin)!;

        Assert.True(first.Token.Length >= 43);
        Assert.True(first.Session.CsrfToken.Length >= 43);
        Assert.NotEqual(first.Token, second.Token);
        Assert.NotEqual(first.Token, first.Session.CsrfToken);
        Assert.Null(store.Find(first.Session.CsrfToken));
    }

    [Fact]
    public void ASessionUnusedForTheIdleTimeoutEndsAndUseKeepsItAlive()
    {
        var store = Store(idleMinutes: 30);
        var busy = store.Create(Admin)!;
        var idle = store.Create(Reader)!;

        _clock.Now += TimeSpan.FromMinutes(20);
        Assert.NotNull(store.Find(busy.Token));
        _clock.Now += TimeSpan.FromMinutes(20);

        Assert.NotNull(store.Find(busy.Token));
        Assert.Null(store.Find(idle.Token));
    }

    [Fact]
    public void ASessionEndsAtItsAbsoluteTimeoutHoweverBusy()
    {
        var store = Store(idleMinutes: 60, absoluteHours: 1);
        var session = store.Create(Admin)!;
        for (var i = 0; i < 5; i++)
        {
            _clock.Now += TimeSpan.FromMinutes(11);
            Assert.NotNull(store.Find(session.Token));
        }
        _clock.Now += TimeSpan.FromMinutes(6);

        Assert.Null(store.Find(session.Token));
    }

    [Fact]
    public void AKeyOverItsOwnLimitLosesItsOldestSessionAndOtherKeysKeepTheirs()
    {
        var store = Store(perKey: 2);
        var other = store.Create(Reader)!;
        var oldest = store.Create(Admin)!;
        _clock.Now += TimeSpan.FromSeconds(1);
        var middle = store.Create(Admin)!;
        _clock.Now += TimeSpan.FromSeconds(1);
        var newest = store.Create(Admin)!;

        Assert.Null(store.Find(oldest.Token));
        Assert.NotNull(store.Find(middle.Token));
        Assert.NotNull(store.Find(newest.Token));
        Assert.NotNull(store.Find(other.Token));
    }

    [Fact]
    public void AFullStoreRefusesNewSessionsUntilOneExpires()
    {
        var store = Store(max: 2, idleMinutes: 10);
        Assert.NotNull(store.Create(Admin));
        Assert.NotNull(store.Create(Reader));

        Assert.Null(store.Create(new ApiKeyIdentity("ci-bot", GatewayRoles.Operator)));
        _clock.Now += TimeSpan.FromMinutes(11);
        Assert.NotNull(store.Create(new ApiKeyIdentity("ci-bot", GatewayRoles.Operator)));
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public void TheCsrfTokenMustMatchExactly()
    {
        var session = Store().Create(Admin)!.Session;

        Assert.True(SessionStore.CsrfMatches(session, session.CsrfToken));
        Assert.False(SessionStore.CsrfMatches(session, null));
        Assert.False(SessionStore.CsrfMatches(session, ""));
        Assert.False(SessionStore.CsrfMatches(session, session.CsrfToken[..^1]));
        Assert.False(SessionStore.CsrfMatches(session, session.CsrfToken.ToUpperInvariant() == session.CsrfToken ? session.CsrfToken + "x" : session.CsrfToken.ToUpperInvariant()));
    }

    [Fact]
    public void UnknownOrOverlongTokensFindNothing()
    {
        var store = Store();
        store.Create(Admin);

        Assert.Null(store.Find(null));
        Assert.Null(store.Find(""));
        Assert.Null(store.Find("not-a-session"));
        Assert.Null(store.Find(new string('a', 10_000)));
    }
}
