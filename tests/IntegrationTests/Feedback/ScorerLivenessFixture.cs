namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>A platform whose scorer reports itself dead quickly when it cannot serve any model; its only models are this collection's.</summary>
public sealed class ScorerLivenessFixture : PlatformFixture
{
    public const int NoServableModelSeconds = 2;

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"OnlineScorer:Liveness:NoServableModelSeconds={NoServableModelSeconds}",
        "OnlineScorer:Reconciliation:IntervalSeconds=2",
        OneBatchReplica,
    ];
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScorerLivenessCollection : ICollectionFixture<ScorerLivenessFixture>
{
    public const string Name = "ScorerLiveness";
}
