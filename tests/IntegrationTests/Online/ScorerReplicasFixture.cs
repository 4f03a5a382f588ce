namespace MlPlatform.IntegrationTests.Online;

/// <summary>
/// A platform with two online scorer replicas (<c>Platform:OnlineScorerReplicas=2</c>, resources <c>onlinescorer</c> and
/// <c>onlinescorer-2</c>): for what must hold across replicas (statistics summed, pins honoured by every replica).
/// </summary>
public sealed class ScorerReplicasFixture : PlatformFixture
{
    public static readonly string[] Scorers = ["onlinescorer", "onlinescorer-2"];

    protected override IEnumerable<string> ExtraArguments => ["Platform:OnlineScorerReplicas=2", OneBatchReplica];

    /// <summary>A client of one scorer replica itself (bypassing the gateway), presenting the internal credential.</summary>
    public HttpClient CreateScorerClient(string resource)
    {
        var client = App.CreateHttpClient(resource, "http");
        client.Timeout = RequestTimeout;
        client.DefaultRequestHeaders.Add("X-MlPlatform-Internal-Key", InternalApiKey);
        return client;
    }
}

[CollectionDefinition(Name)]
public sealed class ScorerReplicasCollection : ICollectionFixture<ScorerReplicasFixture>
{
    public const string Name = "ScorerReplicas";
}
