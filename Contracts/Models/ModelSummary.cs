namespace MlPlatform.Contracts;

/// <summary>A model in a page of models (<c>GET /v1/models</c>).</summary>
public sealed record ModelSummary(string Name, DateTimeOffset CreatedAt, int LatestVersion, IReadOnlyList<AliasInfo> Aliases);

/// <summary>One page of a list.</summary>
public sealed record PaginatedItems<T>(int PageIndex, int PageSize, long Count, IReadOnlyList<T> Items);

/// <summary>The paging query of a list (<c>?pageSize=&amp;pageIndex=</c>).</summary>
public sealed record PaginationRequest(int PageSize = 50, int PageIndex = 0);
