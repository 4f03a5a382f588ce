using Microsoft.Extensions.Options;
using MlPlatform.OnlineScorer.Serving;
using MlPlatform.OnlineScorer.Shadow;

namespace MlPlatform.UnitTests.Online;

/// <summary>
/// The shadow traffic's yield rule (issue 18): a copy starts only while production's requests in flight (those holding part of the
/// scorer's in-flight budget) are at most <c>Shadow:MaxProductionInFlight</c>, waits for one to end otherwise, and is given up as busy
/// once its wait is over.
/// </summary>
public sealed class ShadowGateTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly TimeProvider Time = TimeProvider.System;

    private static InFlightBudget Budget() => new(Options.Create(new InferenceLimitsOptions { MaxInFlightBytes = 1000 }));

    // Waits long enough that no test here ever reaches the bound unless it asks to.
    private static ShadowGate Gate(InFlightBudget budget, int maxProductionInFlight = 0, int maxWaitMilliseconds = 600_000) =>
        new(budget, Options.Create(new ShadowOptions { MaxProductionInFlight = maxProductionInFlight, MaxWaitMilliseconds = maxWaitMilliseconds }), Time);

    [Fact]
    public void TheBudgetCountsARequestFromItsFirstReservationToItsLastRelease()
    {
        var budget = Budget();
        budget.Reserve(300, newRequest: true);
        budget.Reserve(300);
        Assert.Equal(1, budget.Requests);
        // A request the budget refuses never counts as in flight.
        Assert.Throws<ScorerOverloadedException>(() => budget.Reserve(500, newRequest: true));
        Assert.Equal(1, budget.Requests);
        budget.Release(600, endsRequest: true);
        Assert.Equal(0, budget.Requests);
        Assert.Equal(0, budget.Used);
    }

    [Fact]
    public async Task ACopyStartsAtOnceWhenNoProductionRequestIsInFlightAndWaitsForTheLastOneToEndOtherwise()
    {
        var budget = Budget();
        var gate = Gate(budget);
        var idle = gate.WaitForRoomAsync(Time.GetTimestamp(), CancellationToken.None);
        Assert.True(idle.IsCompletedSuccessfully);
        Assert.True(await idle);

        budget.Reserve(100, newRequest: true);
        budget.Reserve(100, newRequest: true);
        var waiting = gate.WaitForRoomAsync(Time.GetTimestamp(), CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        // One production request ends, one is still in flight: no room yet.
        budget.Release(100, endsRequest: true);
        Assert.False(waiting.IsCompleted);
        Assert.False(gate.HasRoom);
        // Releasing bytes alone (a request still in flight) is not a request ending.
        budget.Release(50);
        Assert.False(waiting.IsCompleted);
        budget.Release(50, endsRequest: true);
        Assert.True(await waiting.WaitAsync(Bound));
        Assert.True(gate.HasRoom);
    }

    [Fact]
    public async Task MaxProductionInFlightLetsCopiesStartBesideThatManyProductionRequests()
    {
        var budget = Budget();
        var gate = Gate(budget, maxProductionInFlight: 1);
        budget.Reserve(100, newRequest: true);
        Assert.True(await gate.WaitForRoomAsync(Time.GetTimestamp(), CancellationToken.None).AsTask().WaitAsync(Bound));

        budget.Reserve(100, newRequest: true);
        var waiting = gate.WaitForRoomAsync(Time.GetTimestamp(), CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        budget.Release(100, endsRequest: true);
        Assert.True(await waiting.WaitAsync(Bound));
    }

    [Fact]
    public async Task ACopyWhoseWaitIsOverWhileProductionIsBusyIsGivenUpButRunsWhenProductionIsIdle()
    {
        var budget = Budget();
        var gate = Gate(budget, maxWaitMilliseconds: 5000);
        // Production answered ten minutes ago: far past the copy's five seconds.
        var longAgo = Time.GetTimestamp() - Time.TimestampFrequency * 600;
        budget.Reserve(100, newRequest: true);
        Assert.False(await gate.WaitForRoomAsync(longAgo, CancellationToken.None).AsTask().WaitAsync(Bound));

        // The bound is on waiting: a late copy that finds production idle costs production nothing, so it runs.
        budget.Release(100, endsRequest: true);
        Assert.True(await gate.WaitForRoomAsync(longAgo, CancellationToken.None).AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task SeveralWaitingCopiesAreAllWokenByTheRequestThatLeavesRoom()
    {
        var budget = Budget();
        var gate = Gate(budget);
        budget.Reserve(100, newRequest: true);
        var first = gate.WaitForRoomAsync(Time.GetTimestamp(), CancellationToken.None).AsTask();
        var second = gate.WaitForRoomAsync(Time.GetTimestamp(), CancellationToken.None).AsTask();
        Assert.False(first.IsCompleted || second.IsCompleted);
        budget.Release(100, endsRequest: true);
        var started = await Task.WhenAll(first, second).WaitAsync(Bound);
        Assert.All(started, Assert.True);
    }

    [Fact]
    public async Task AWaitingCopyStopsWithTheScorer()
    {
        var budget = Budget();
        var gate = Gate(budget);
        budget.Reserve(100, newRequest: true);
        using var stopping = new CancellationTokenSource();
        var waiting = gate.WaitForRoomAsync(Time.GetTimestamp(), stopping.Token).AsTask();
        await stopping.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Bound));
    }
}
