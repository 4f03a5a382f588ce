namespace MlPlatform.Contracts;

/// <summary>
/// A version every online scorer replica keeps loaded until the pin is released (<c>GET /v1/models/{name}/pins</c>; set through Triton's
/// <c>POST /v2/repository/models/{name}/load</c>). <see cref="PinnedBy"/> is the key id that asked.
/// </summary>
public sealed record VersionPin(int Version, DateTimeOffset PinnedAt, string PinnedBy);
