namespace MlPlatform.ModelRegistry.Model;

/// <summary>Who asked for a change, as forwarded by the gateway.</summary>
public sealed record Caller(string Actor, string? Role);
