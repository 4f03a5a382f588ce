namespace MlPlatform.IntegrationTests.Online;

/// <summary>
/// A platform of the online scorer's own: its tests register many models, which would break tests that expect an empty registry
/// in the shared <see cref="PlatformCollection"/>.
/// </summary>
public sealed class OnlineScorerFixture : PlatformFixture;

[CollectionDefinition(Name)]
public sealed class OnlineScorerCollection : ICollectionFixture<OnlineScorerFixture>
{
    public const string Name = "OnlineScorer";
}
