using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.UnitTests.Online;

/// <summary>The per-version state Triton's repository index reports on a replica: READY, LOADING or UNAVAILABLE with a reason.</summary>
public sealed class RepositoryStateTests
{
    [Fact]
    public void ALoadedVersionIsReadyWithoutAReasonEvenWhileAnotherLoadRuns()
    {
        var routes = new RouteTable();
        routes.GetOrAdd("iris").Loading.TryAdd(2, 0);

        Assert.Equal(new RepositoryState("READY", ""), routes.StateOf("iris", 2, loaded: true));
    }

    [Fact]
    public void AVersionBeingLoadedIsLoading()
    {
        var routes = new RouteTable();
        routes.GetOrAdd("iris").Loading.TryAdd(2, 0);

        Assert.Equal(RepositoryState.Loading, routes.StateOf("iris", 2, loaded: false).State);
        Assert.Equal(RepositoryState.Unavailable, routes.StateOf("iris", 1, loaded: false).State);
    }

    [Fact]
    public void APinnedVersionThatFailedToLoadIsUnavailableWithTheFailure()
    {
        var routes = new RouteTable();
        routes.GetOrAdd("iris").PinFailures[3] = "artifact hash mismatch";

        Assert.Equal(new RepositoryState("UNAVAILABLE", "pinned, but loading it failed on this replica: artifact hash mismatch"),
            routes.StateOf("iris", 3, loaded: false));
    }

    [Fact]
    public void AnUnknownModelsVersionIsUnavailableAndSaysHowVersionsGetLoaded()
    {
        var state = new RouteTable().StateOf("unknown", 1, loaded: false);

        Assert.Equal(RepositoryState.Unavailable, state.State);
        Assert.StartsWith("not loaded on this replica", state.Reason);
    }
}
