namespace MlPlatform.IntegrationTests.Registry;

/// <summary>A platform whose registry gives a model one second to open, the shortest limit <c>Inspection:TimeoutSeconds</c> allows.</summary>
public sealed class RegistryInspectionTimeoutFixture : PlatformFixture
{
    public const int InspectionTimeoutSeconds = 1;

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"Registry:Inspection:TimeoutSeconds={InspectionTimeoutSeconds}",
        OneBatchReplica,
    ];
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RegistryInspectionTimeoutCollection : ICollectionFixture<RegistryInspectionTimeoutFixture>
{
    public const string Name = "RegistryInspectionTimeout";
}
