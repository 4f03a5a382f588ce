namespace MlPlatform.IntegrationTests.Registry;

/// <summary>A platform whose registry has low artifact and inspection-memory limits and may be stopped and started by its tests.</summary>
public sealed class RegistryFaultFixture : PlatformFixture
{
    public const long MaxArtifactBytes = 64 * 1024;
    public const int InspectionMemoryMegabytes = 512;

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"Registry:Registration:MaxArtifactBytes={MaxArtifactBytes}",
        $"Registry:Inspection:MaxMemoryMegabytes={InspectionMemoryMegabytes}",
        // This platform seeds the demo model, as a developer's first start does.
        "Platform:DemoModel=true",
        OneBatchReplica,
    ];
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RegistryFaultCollection : ICollectionFixture<RegistryFaultFixture>
{
    public const string Name = "RegistryFaults";
}
