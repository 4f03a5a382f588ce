namespace MlPlatform.IntegrationTests.Gateway;

/// <summary>A platform started in Development with no admin key configured: the AppHost generates one into the data folder.</summary>
public sealed class DevelopmentKeyFixture : PlatformFixture
{
    // Later arguments win: this unsets the admin key the base fixture configures.
    protected override IEnumerable<string> ExtraArguments => ["Parameters:admin-api-key=", OneBatchReplica];

    public string KeyFile => Path.Combine(DataDir, "secrets", "admin-api-key");
}

[CollectionDefinition(Name)]
public sealed class DevelopmentKeyCollection : ICollectionFixture<DevelopmentKeyFixture>
{
    public const string Name = "DevelopmentKey";
}
