namespace MlPlatform.IntegrationTests.Limits;

/// <summary>
/// A platform with issue 16's bounds lowered so that tests meet them: a 400 MB in-flight budget and a 4 KiB artifact cache in the scorer, and at the gateway
/// two open requests per reader key in a shared pool of three (admin keys have their own pool) and a second reader key.
/// </summary>
public sealed class LimitsFixture : PlatformFixture
{
    public const long MaxInFlightBytes = 400_000_000;
    public const int ReaderOpenRequests = 2;
    public const string SecondReaderApiKey = "test-second-reader-key-0123456789abcdef";

    /// <summary>The scorer's artifact cache bound: about fifteen of the tiny test models.</summary>
    public const long ArtifactCacheBytes = 4096;

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"OnlineScorer:InferenceLimits:MaxInFlightBytes={MaxInFlightBytes}",
        $"OnlineScorer:ArtifactCacheOptions:MaxBytes={ArtifactCacheBytes}",
        $"Gateway:RateLimits:Reader:ConcurrencyLimit={ReaderOpenRequests}",
        "Gateway:RateLimits:ConcurrencyLimit=3",
        "Gateway:RateLimits:ConcurrencyQueueLimit=0",
        "Gateway:ApiKeys:Keys:second-reader:Role=reader",
        $"Gateway:ApiKeys:Keys:second-reader:Key={SecondReaderApiKey}",
    ];
}

[CollectionDefinition(Name)]
public sealed class LimitsCollection : ICollectionFixture<LimitsFixture>
{
    public const string Name = "Limits";
}
