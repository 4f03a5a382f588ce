namespace MlPlatform.IntegrationTests.Batch;

/// <summary>A platform of its own for tests that kill processes: short idle and reconcile times so recovery happens within a test's patience.</summary>
public sealed class BatchFaultFixture : PlatformFixture
{
    protected override IEnumerable<string> ExtraArguments =>
    [
        "BatchScorer:BatchWorkerOptions:ClaimIdleTime=00:00:03",
        "BatchScorer:BatchWorkerOptions:ClaimRenewInterval=00:00:01",
        "BatchScorer:BatchWorkerOptions:MaxDeliveries=2",
        "BatchScorer:BatchWorkerOptions:ReconcileInterval=00:00:02",
        // Small enough for a test to fill it.
        $"Redis:CacheMaxMemory={CacheMaxMemoryMegabytes}mb",
    ];

    public const int CacheMaxMemoryMegabytes = 16;
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BatchFaultCollection : ICollectionFixture<BatchFaultFixture>
{
    public const string Name = "Batch faults";
}
