namespace MlPlatform.AppHost.Supervision;

/// <summary>What the supervisor does about one exit: start the service again after <see cref="Delay"/>, or leave it stopped.</summary>
internal readonly record struct RestartDecision(bool GiveUp, TimeSpan Delay, int RestartsInWindow);

/// <summary>
/// The restart bookkeeping of one service instance: exponential backoff (reset once the instance has been healthy long enough) and
/// the crash-loop limit (at most <see cref="SupervisorOptions.MaxRestarts"/> restarts within <see cref="SupervisorOptions.RestartWindow"/>).
/// Not thread-safe: the supervisor calls it from its one notification loop.
/// </summary>
internal sealed class RestartHistory(SupervisorOptions options)
{
    private readonly Queue<DateTimeOffset> _restarts = new();
    private int _consecutive;
    private DateTimeOffset? _healthySince;

    /// <summary>Restarts counted in the current window (as of the last decision).</summary>
    public int RestartsInWindow => _restarts.Count;

    /// <summary>The instance reported healthy at <paramref name="now"/>; the first report of a run starts the clock that resets the backoff.</summary>
    public void Healthy(DateTimeOffset now) => _healthySince ??= now;

    /// <summary>The instance exited on its own at <paramref name="now"/>.</summary>
    public RestartDecision OnExit(DateTimeOffset now)
    {
        if (_healthySince is { } since && now - since >= options.ResetAfter)
        {
            _consecutive = 0;
        }
        _healthySince = null;
        while (_restarts.Count > 0 && now - _restarts.Peek() > options.RestartWindow)
        {
            _restarts.Dequeue();
        }
        if (_restarts.Count >= options.MaxRestarts)
        {
            return new RestartDecision(true, TimeSpan.Zero, _restarts.Count);
        }
        var delay = TimeSpan.FromTicks((long)Math.Min(options.MaxBackoff.Ticks, options.InitialBackoff.Ticks * Math.Pow(2, _consecutive)));
        _consecutive++;
        _restarts.Enqueue(now);
        return new RestartDecision(false, delay, _restarts.Count);
    }

    /// <summary>An operator started, restarted or stopped the instance: its history starts afresh.</summary>
    public void Reset()
    {
        _restarts.Clear();
        _consecutive = 0;
        _healthySince = null;
    }
}
