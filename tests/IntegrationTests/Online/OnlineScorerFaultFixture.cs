namespace MlPlatform.IntegrationTests.Online;

/// <summary>A platform whose online scorer has low limits and a fast reconciliation, for tests that break things on purpose.</summary>
public sealed class OnlineScorerFaultFixture : PlatformFixture
{
    public const int MaxRequestBodyBytes = 2 << 20;
    public const int MaxElementsPerInput = 200_000;

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"OnlineScorer:InferenceLimits:MaxRequestBodyBytes={MaxRequestBodyBytes}",
        $"OnlineScorer:InferenceLimits:MaxElementsPerInput={MaxElementsPerInput}",
        "OnlineScorer:InferenceLimits:MaxLoadedVersions=2",
        "OnlineScorer:Reconciliation:IntervalSeconds=2",
        "OnlineScorer:Batching:QueueCapacity=1",
    ];
}

[CollectionDefinition(Name)]
public sealed class OnlineScorerFaultCollection : ICollectionFixture<OnlineScorerFaultFixture>
{
    public const string Name = "OnlineScorerFaults";
}
