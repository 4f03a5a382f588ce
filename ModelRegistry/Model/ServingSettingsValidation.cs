namespace MlPlatform.ModelRegistry.Model;

/// <summary>The registry's checks of <see cref="ServingSettings"/> (the record and its bounds live in Contracts).</summary>
public static class ServingSettingsValidation
{
    /// <summary>Checks every bound; returns the errors by member path (empty when valid).</summary>
    public static Dictionary<string, string[]> Validate(this ServingSettings settings)
    {
        const int maxInstanceCount = ServingSettings.MaxInstanceCount;
        const int maxBatchSizeLimit = ServingSettings.MaxBatchSizeLimit;
        const double maxQueueDelayMsLimit = ServingSettings.MaxQueueDelayMsLimit;
        const int maxRank = ServingSettings.MaxRank;
        var errors = new Dictionary<string, string[]>();
        if (settings.InstanceCount is < 1 or > maxInstanceCount)
        {
            errors["instanceCount"] = [$"instanceCount must be between 1 and {maxInstanceCount}."];
        }
        if (settings.Batching?.MaxBatchSize is < 1 or > maxBatchSizeLimit)
        {
            errors["batching.maxBatchSize"] = [$"maxBatchSize must be between 1 and {maxBatchSizeLimit}."];
        }
        if (settings.Batching?.MaxQueueDelayMs is { } delay && (double.IsNaN(delay) || delay < 0 || delay > maxQueueDelayMsLimit))
        {
            errors["batching.maxQueueDelayMs"] = [$"maxQueueDelayMs must be between 0 and {maxQueueDelayMsLimit}."];
        }
        foreach (var (input, shape) in settings.WarmupShapes ?? new Dictionary<string, long[]>())
        {
            if (string.IsNullOrWhiteSpace(input) || shape is null || shape.Length is 0 or > maxRank || shape.Any(d => d is < 1 or > 1_000_000))
            {
                errors[$"warmupShapes.{input}"] = [$"A warm-up shape has 1 to {maxRank} dimensions, each between 1 and 1000000 (batch axis included)."];
            }
        }
        if (settings.PayloadLog is { } log)
        {
            if (log.SampleRate is { } rate && (double.IsNaN(rate) || rate < 0 || rate > 1))
            {
                errors["payloadLog.sampleRate"] = ["sampleRate is the share of requests recorded, between 0 and 1."];
            }
            if (log.MaxBytesPerRecord is < PayloadLogSettings.MinBytesPerRecord or > PayloadLogSettings.MaxBytesPerRecordLimit)
            {
                errors["payloadLog.maxBytesPerRecord"] =
                    [$"maxBytesPerRecord must be between {PayloadLogSettings.MinBytesPerRecord} and {PayloadLogSettings.MaxBytesPerRecordLimit}."];
            }
        }
        if (settings.Quality is { } quality)
        {
            if (quality.Task is not (QualitySettings.Classification or QualitySettings.Regression))
            {
                errors["quality.task"] = [$"task is '{QualitySettings.Classification}' or '{QualitySettings.Regression}'."];
            }
            if (string.IsNullOrWhiteSpace(quality.Output) || quality.Output.Length > 256)
            {
                errors["quality.output"] = ["output names the model output that is judged (1 to 256 characters)."];
            }
            if (quality.Labels is { } labels && (labels.Count > 10_000 || labels.Any(string.IsNullOrEmpty)))
            {
                errors["quality.labels"] = ["labels are up to 10000 non-empty class names, in the order of the output's columns."];
            }
        }
        return errors;
    }

    /// <summary>
    /// The error of <c>quality.output</c> when it names an output no version of the model declares (the judged output would never
    /// be found, and every quality report would silently count nothing), listing the outputs the versions have; null when some version
    /// has it, or when no version declares outputs (nothing to check against).
    /// </summary>
    public static Dictionary<string, string[]>? CheckQualityOutput(this ServingSettings settings, IReadOnlyList<ModelVersion> versions)
    {
        ArgumentNullException.ThrowIfNull(versions);
        if (settings.Quality?.Output is not { } output)
        {
            return null;
        }
        var outputs = versions.SelectMany(v => v.Signature.Outputs.Select(o => o.Name)).Distinct(StringComparer.Ordinal).ToList();
        if (outputs.Count == 0 || outputs.Contains(output, StringComparer.Ordinal))
        {
            return null;
        }
        var names = string.Join(", ", outputs.Take(20).Select(o => $"'{o}'"));
        return new Dictionary<string, string[]>
        {
            ["quality.output"] = [$"output '{ClientText.Shorten(output, 64)}' is not an output of any version of the model; its outputs: {names}."],
        };
    }
}
