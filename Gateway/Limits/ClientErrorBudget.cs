using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Auth;
using MlPlatform.Gateway.Errors;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// Counts each key's client errors in fixed windows and holds the keys over <see cref="ClientErrorOptions.MaxErrors"/> in a cool-down
/// (<see cref="ClientErrorOptions"/>), and the bytes of its refused bodies drained (<see cref="ClientErrorOptions.MaxDrainedBytes"/>). One entry per key id, so bounded by the configured keys (sessions carry their key's id).
/// </summary>
public sealed class ClientErrorBudget(IOptions<ClientErrorOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, KeyState> _keys = new(StringComparer.Ordinal);

    /// <summary>How long <paramref name="keyId"/> is still refused, or null when it is not cooling down.</summary>
    public TimeSpan? CoolingDown(string keyId)
    {
        if (!_keys.TryGetValue(keyId, out var state))
        {
            return null;
        }
        var left = Volatile.Read(ref state.CoolUntil) - time.GetUtcNow().UtcTicks;
        return left > 0 ? TimeSpan.FromTicks(left) : null;
    }

    /// <summary>Counts one client error of <paramref name="keyId"/>; true when it used up the budget and started a cool-down.</summary>
    public bool CountError(string keyId)
    {
        var settings = options.Value;
        var state = _keys.GetOrAdd(keyId, static _ => new KeyState());
        var now = time.GetUtcNow().UtcTicks;
        lock (state)
        {
            if (state.Count == 0 || now - state.WindowStart >= settings.Window.Ticks)
            {
                state.WindowStart = now;
                state.Count = 0;
            }
            if (++state.Count < settings.MaxErrors)
            {
                return false;
            }
            state.Count = 0;
            Volatile.Write(ref state.CoolUntil, now + settings.CoolDown.Ticks);
            return true;
        }
    }

    /// <summary>Takes one of <paramref name="keyId"/>'s <see cref="ClientErrorOptions.MaxHeldRefusals"/> slots; false when all are taken.</summary>
    public bool TryHold(string keyId)
    {
        var state = _keys.GetOrAdd(keyId, static _ => new KeyState());
        if (Interlocked.Increment(ref state.Held) <= options.Value.MaxHeldRefusals)
        {
            return true;
        }
        Interlocked.Decrement(ref state.Held);
        return false;
    }

    /// <summary>Gives back a slot taken by <see cref="TryHold"/>.</summary>
    public void Release(string keyId)
    {
        if (_keys.TryGetValue(keyId, out var state))
        {
            Interlocked.Decrement(ref state.Held);
        }
    }

    /// <summary>
    /// Whether <paramref name="keyId"/> may have <paramref name="bytes"/> more of a refused body drained in its current window
    /// (<see cref="ClientErrorOptions.MaxDrainedBytes"/>); starts a new window when the last one is over.
    /// </summary>
    public bool MayDrain(string keyId, long bytes) =>
        InDrainWindow(keyId, bytes, static (state, settings, bytes) => bytes <= settings.MaxDrainedBytes - state.Drained);

    /// <summary>Adds <paramref name="bytes"/> drained for <paramref name="keyId"/>; false once the key is past its bound in this window.</summary>
    public bool AddDrained(string keyId, long bytes) =>
        InDrainWindow(keyId, bytes, static (state, settings, bytes) => (state.Drained += bytes) <= settings.MaxDrainedBytes);

    /// <summary>Notes that a refused body of <paramref name="keyId"/> was left unread; true for the first in the key's window (logged once).</summary>
    public bool LeftUndrained(string keyId) =>
        InDrainWindow(keyId, 0L, static (state, _, _) =>
        {
            var first = !state.DrainRefused;
            state.DrainRefused = true;
            return first;
        });

    /// <summary>Runs <paramref name="use"/> on the key's drain counters under its lock, in the current window (a new one when the last is over).</summary>
    private bool InDrainWindow(string keyId, long bytes, Func<KeyState, ClientErrorOptions, long, bool> use)
    {
        var state = _keys.GetOrAdd(keyId, static _ => new KeyState());
        var settings = options.Value;
        var now = time.GetUtcNow().UtcTicks;
        lock (state)
        {
            if (state.DrainWindowStart == 0 || now - state.DrainWindowStart >= settings.Window.Ticks)
            {
                state.DrainWindowStart = now;
                state.Drained = 0;
                state.DrainRefused = false;
            }
            return use(state, settings, bytes);
        }
    }

    /// <summary>Client errors that count: 4xx, but authentication (401, 403), timeouts (408) and limits (429), which have their own answers.</summary>
    public static bool Counts(int status) => status is >= 400 and < 500 and not (401 or 403 or 408 or 429);

    private sealed class KeyState
    {
        public long WindowStart;
        public int Count;
        public long CoolUntil;
        public int Held;
        public long DrainWindowStart;
        public long Drained;
        public bool DrainRefused;
    }
}

/// <summary>
/// Refuses a key in its cool-down with 429 + <c>Retry-After</c> before its request takes a concurrency slot, reads its body or reaches a
/// backend, and counts the client errors of the others' answers. Runs after authorization (the key is known) and before the rate limiter.
/// </summary>
public sealed class ClientErrorBudgetMiddleware(RequestDelegate next, ClientErrorBudget budget, ClientErrorMetrics metrics,
    IOptions<ClientErrorOptions> options, ILogger<ClientErrorBudgetMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        // Off (tests whose point is a flood of client errors): one flag read per request, before any claim lookup.
        if (!options.Value.Enabled)
        {
            await next(context);
            return;
        }
        var keyId = context.User.FindFirstValue(ClaimTypes.NameIdentifier);
        if (keyId is null || context.User.IsInRole(GatewayRoles.Admin))
        {
            await next(context);
            return;
        }
        if (budget.CoolingDown(keyId) is { } left)
        {
            metrics.Refused();
            var settings = options.Value;
            // Held first (a client that asks again at once then asks about once a delay), within the key's share of held refusals.
            var delay = settings.RefusalDelay < left ? settings.RefusalDelay : left;
            if (delay > TimeSpan.Zero && budget.TryHold(keyId))
            {
                try
                {
                    await Task.Delay(delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                finally
                {
                    budget.Release(keyId);
                }
                left -= delay;
            }
            var seconds = Math.Max(1, (int)Math.Ceiling(left.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await GatewayErrors.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too Many Requests",
                $"This API key got {settings.MaxErrors} client errors (4xx) within {settings.Window.TotalSeconds:0.###} s and is refused " +
                $"for {settings.CoolDown.TotalSeconds:0.###} s; retry after {seconds} s.");
            // Sent now: Kestrel holds an answer until it has drained the unread body (up to its 1 MiB default limit; a larger body
            // declared is not read, the connection closes), so a client that sends headers and waits would otherwise get a reset.
            await context.Response.CompleteAsync();
            return;
        }
        await next(context);
        if (ClientErrorBudget.Counts(context.Response.StatusCode) && budget.CountError(keyId))
        {
            metrics.CoolDownStarted();
            logger.LogWarning("API key {KeyId} got {MaxErrors} client errors within {Window}: refused for {CoolDown} (last: {Status} on {Path}, trace {TraceId})",
                keyId, options.Value.MaxErrors, options.Value.Window, options.Value.CoolDown, context.Response.StatusCode, context.Request.Path,
                Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier);
        }
    }
}

/// <summary>Counts cool-downs started, the requests refused during them and the refused bodies left undrained (<c>MlPlatform.Gateway</c> meter).</summary>
public sealed class ClientErrorMetrics
{
    private readonly Counter<long> _coolDowns;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _undrained;

    public ClientErrorMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(StreamMessageLimitMetrics.MeterName);
        _coolDowns = meter.CreateCounter<long>("mlplatform.gateway.client_error_cooldowns", unit: "{cooldown}",
            description: "Cool-downs started: a key got ClientErrors:MaxErrors client errors within ClientErrors:Window");
        _refused = meter.CreateCounter<long>("mlplatform.gateway.client_error_refusals", unit: "{request}",
            description: "Requests refused with 429 because their key was in a client-error cool-down");
        _undrained = meter.CreateCounter<long>("mlplatform.gateway.client_error_undrained_bodies", unit: "{request}",
            description: "Refused request bodies left unread (the connection closed after the answer) because their key had ClientErrors:MaxDrainedBytes drained within ClientErrors:Window");
    }

    public void CoolDownStarted() => _coolDowns.Add(1);

    public void Refused() => _refused.Add(1);

    public void LeftUndrained() => _undrained.Add(1);
}
