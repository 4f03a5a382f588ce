namespace MlPlatform.ModelRegistry.Model;

public sealed record ModelSummary(string Name, DateTimeOffset CreatedAt, int LatestVersion, IReadOnlyList<AliasInfo> Aliases);

public sealed record PaginatedItems<T>(int PageIndex, int PageSize, long Count, IReadOnlyList<T> Items);

public sealed record PaginationRequest(int PageSize = 50, int PageIndex = 0);
