namespace MlPlatform.IntegrationTests.Gateway;

/// <summary>A platform whose gateway has tiny limits, so that tests meet them: 3 requests per reader key per minute, 6 per operator key
/// (its gRPC stream messages count), 4 KiB inference bodies (and stream messages), a 1 s timeout on batch reads and one request
/// forwarded at a time (admins, who have their own pool, too); a client-error budget of 3 errors per key (a 5 s cool-down) and 1 MiB of
/// refused bodies drained per key and window, met by three keys of their own that no other test uses (the other tests' reader and
/// operator keys get no client errors, admins are exempt).</summary>
public sealed class GatewayLimitsFixture : PlatformFixture
{
    public const int ReaderBurst = 3;
    public const int InferenceBodyLimit = 4096;
    public const int OperatorBurst = 6;
    public const int ClientErrorBudget = 3;
    public static readonly TimeSpan ClientErrorCoolDown = TimeSpan.FromSeconds(5);
    public const string ErringKey = "test-erring-operator-key-0123456789abcdef";
    public const string BystanderKey = "test-bystander-operator-key-0123456789abcdef";
    public const long MaxDrainedBytes = 1 << 20;
    public const string DrainingKeyId = "draining";
    public const string DrainingKey = "test-draining-operator-key-0123456789abcdef";

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"Gateway:RateLimits:Reader:TokenLimit={ReaderBurst}",
        "Gateway:RateLimits:Reader:TokensPerPeriod=1",
        "Gateway:RateLimits:Reader:ReplenishmentPeriod=00:01:00",
        $"Gateway:RateLimits:Operator:TokenLimit={OperatorBurst}",
        "Gateway:RateLimits:Operator:TokensPerPeriod=1",
        "Gateway:RateLimits:Operator:ReplenishmentPeriod=00:01:00",
        "Gateway:RateLimits:ConcurrencyLimit=1",
        "Gateway:RateLimits:ReservedConcurrencyLimit=1",
        "Gateway:RateLimits:ConcurrencyQueueLimit=0",
        $"Gateway:BodySizeLimits:Inference={InferenceBodyLimit}",
        "Gateway:Timeouts:Download=00:00:01",
        // On by default; named here because these tests are about it.
        "Gateway:ClientErrors:Enabled=true",
        $"Gateway:ClientErrors:MaxDrainedBytes={MaxDrainedBytes}",
        $"Gateway:ClientErrors:MaxErrors={ClientErrorBudget}",
        $"Gateway:ClientErrors:CoolDown={ClientErrorCoolDown:c}",
        "Gateway:ApiKeys:Keys:erring:Role=operator",
        $"Gateway:ApiKeys:Keys:erring:Key={ErringKey}",
        "Gateway:ApiKeys:Keys:bystander:Role=operator",
        $"Gateway:ApiKeys:Keys:bystander:Key={BystanderKey}",
        $"Gateway:ApiKeys:Keys:{DrainingKeyId}:Role=operator",
        $"Gateway:ApiKeys:Keys:{DrainingKeyId}:Key={DrainingKey}",
    ];
}

[CollectionDefinition(Name)]
public sealed class GatewayLimitsCollection : ICollectionFixture<GatewayLimitsFixture>
{
    public const string Name = "GatewayLimits";
}
