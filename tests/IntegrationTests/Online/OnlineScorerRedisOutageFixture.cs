namespace MlPlatform.IntegrationTests.Online;

/// <summary>
/// A platform whose scorer reconciles only every 10 minutes, so that within a test only its reaction to Redis coming back
/// (the reconnect, and the events it then sees) can bring a version change made during the outage.
/// </summary>
public sealed class OnlineScorerRedisOutageFixture : PlatformFixture
{
    // A one-copy shadow queue: ShadowQueueTests fills it with a slow shadow version (no other test here shadows).
    protected override IEnumerable<string> ExtraArguments => ["OnlineScorer:Reconciliation:IntervalSeconds=600", "OnlineScorer:Shadow:QueueCapacity=1", OneBatchReplica];
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OnlineScorerRedisOutageCollection : ICollectionFixture<OnlineScorerRedisOutageFixture>
{
    public const string Name = "Online scorer Redis outage";
}
