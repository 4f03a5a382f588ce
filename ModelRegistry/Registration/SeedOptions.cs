namespace MlPlatform.ModelRegistry.Registration;

/// <summary>A model to register at start-up when its name does not exist yet (the AppHost sets this in development for the demo).</summary>
public sealed class SeedOptions
{
    public const string SectionName = "Seed";

    /// <summary>ONNX file to register; nothing is seeded when empty. Operator configuration, never taken from a request.</summary>
    public string? ModelPath { get; set; }

    /// <summary>Name to register it under.</summary>
    public string? ModelName { get; set; }

    /// <summary>Alias pointed at the seeded version. Default <c>production</c>.</summary>
    public string Alias { get; set; } = AliasNames.Production;
}
