using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.UnitTests.Registry;

public sealed class ServingSettingsTests
{
    [Fact]
    public void DefaultsAreValid() => Assert.Empty(ServingSettings.Default.Validate());

    [Fact]
    public void AFullValidConfigurationPasses() =>
        Assert.Empty(new ServingSettings(new BatchingSettings(true, 32, 2.0), 2, new Dictionary<string, long[]> { ["input"] = [1, 4] },
            new ResponseCacheSettings(true)).Validate());

    [Fact]
    public void EveryOutOfRangeMemberIsReportedByPath()
    {
        var errors = new ServingSettings(new BatchingSettings(true, 0, -1), 65, new Dictionary<string, long[]> { ["input"] = [0, 4] }, null)
            .Validate();

        Assert.Equal(["batching.maxBatchSize", "batching.maxQueueDelayMs", "instanceCount", "warmupShapes.input"], errors.Keys.Order());
    }
}
