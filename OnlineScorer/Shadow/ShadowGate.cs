using Microsoft.Extensions.Options;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Shadow;

/// <summary>
/// The shadow traffic's yield rule: a copy starts only while the production requests in flight on this scorer (the requests holding
/// part of its <see cref="InFlightBudget"/>) are at most <see cref="ShadowOptions.MaxProductionInFlight"/> (default 0: none), so a copy
/// takes only CPU production leaves idle. Otherwise it waits for a production request to end, at most until
/// <see cref="ShadowOptions.MaxWaitMilliseconds"/> after its own production request was answered.
/// </summary>
public sealed class ShadowGate
{
    private readonly InFlightBudget _production;
    private readonly int _maxProductionInFlight;
    private readonly TimeSpan _maxWait;
    private readonly TimeProvider _time;

    // Completed (and cleared) by the production request whose end leaves room; installed by a waiting copy. Null while nobody waits,
    // so production's only cost is one read of it per request.
    private TaskCompletionSource? _room;

    public ShadowGate(InFlightBudget production, IOptions<ShadowOptions> options, TimeProvider time)
    {
        _production = production;
        _maxProductionInFlight = options.Value.MaxProductionInFlight;
        _maxWait = TimeSpan.FromMilliseconds(options.Value.MaxWaitMilliseconds);
        _time = time;
        production.RequestEnded += OnProductionRequestEnded;
    }

    /// <summary>Whether production leaves room for a copy right now.</summary>
    public bool HasRoom => _production.Requests <= _maxProductionInFlight;

    /// <summary>
    /// Waits until production leaves room for a copy whose production request was answered at <paramref name="answeredAt"/> (a
    /// <see cref="TimeProvider.GetTimestamp"/>); false when its wait ran out first (the copy is to be dropped as busy).
    /// </summary>
    public async ValueTask<bool> WaitForRoomAsync(long answeredAt, CancellationToken cancellationToken)
    {
        while (!HasRoom)
        {
            var room = Volatile.Read(ref _room) ?? Install();
            // Checked again once the signal is in place: a request that ended in between either is seen here or completes the signal.
            if (HasRoom)
            {
                return true;
            }
            var left = _maxWait - _time.GetElapsedTime(answeredAt);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }
            try
            {
                await room.Task.WaitAsync(left, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return HasRoom;
            }
        }
        return true;
    }

    private TaskCompletionSource Install()
    {
        // Asynchronous continuations: the copy never runs on the production request's thread that woke it.
        var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Interlocked.CompareExchange(ref _room, fresh, null) ?? fresh;
    }

    private void OnProductionRequestEnded(int inFlight)
    {
        if (inFlight <= _maxProductionInFlight && Volatile.Read(ref _room) is not null)
        {
            Interlocked.Exchange(ref _room, null)?.TrySetResult();
        }
    }
}
