using StackExchange.Redis;

namespace MlPlatform.BatchScorer.Jobs;

/// <summary>Job state in Redis: a sorted set indexes job ids by submission time.</summary>
public sealed class JobStore(IConnectionMultiplexer redis)
{
    public const string JobIndexKey = "mlplatform:batch:jobs";

    public async Task<JobPage> ListAsync(int pageIndex, int pageSize)
    {
        var db = redis.GetDatabase();
        var total = await db.SortedSetLengthAsync(JobIndexKey);
        var ids = await db.SortedSetRangeByRankAsync(JobIndexKey, (long)pageIndex * pageSize, (long)(pageIndex + 1) * pageSize - 1, Order.Descending);
        return new JobPage(pageIndex, pageSize, total, ids.Select(id => new JobSummary(id.ToString())).ToList());
    }
}

public sealed record JobSummary(string Id);

public sealed record JobPage(int PageIndex, int PageSize, long Count, IReadOnlyList<JobSummary> Items);
