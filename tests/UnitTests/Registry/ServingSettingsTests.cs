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

    [Fact]
    public void AQualityOutputNoVersionHasIsRefusedNamingTheOutputsThereAre()
    {
        static ModelVersion Version(int number, params string[] outputs) => new("iris", number, new string('a', 64), 1,
            new ModelSignature([new TensorSpec("input", "FP32", [-1, 4])], outputs.Select(o => new TensorSpec(o, "FP32", [-1, 3])).ToList()),
            DateTimeOffset.UnixEpoch, null, null, new Dictionary<string, string>(), false);
        static ServingSettings Judging(string output) => ServingSettings.Default with { Quality = new QualitySettings(QualitySettings.Classification, output, null) };
        ModelVersion[] versions = [Version(1, "Score.output"), Version(2, "Score.output", "PredictedLabel.output")];

        var errors = Judging("Scores").CheckQualityOutput(versions);

        Assert.NotNull(errors);
        var message = Assert.Single(Assert.Single(errors, e => e.Key == "quality.output").Value);
        Assert.Contains("'Scores' is not an output of any version of the model; its outputs: 'Score.output', 'PredictedLabel.output'", message);
        Assert.Null(Judging("PredictedLabel.output").CheckQualityOutput(versions));
        Assert.Null(Judging("Scores").CheckQualityOutput([Version(1)]));
        Assert.Null(ServingSettings.Default.CheckQualityOutput(versions));
    }
}
