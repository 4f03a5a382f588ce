using MlPlatform.Inference.Protocol;
using MlPlatform.OnlineScorer.Model;
using MlPlatform.OnlineScorer.Serving;
using StackExchange.Redis;

namespace MlPlatform.OnlineScorer.Telemetry;

/// <summary>Reads the cumulative statistics every replica adds to Redis (<see cref="ModelStatisticsRecorder"/>).</summary>
public sealed class ModelStatisticsReader(IConnectionMultiplexer redis, ModelRepository repository)
{
    /// <summary>
    /// Statistics of every version that has answered (<paramref name="name"/> null), of every version of one model, or of one version;
    /// a version that has not answered yet is listed with zeros.
    /// </summary>
    /// <exception cref="InferenceProtocolException">An unknown model (404) or version (404), or Redis does not answer (503).</exception>
    public async Task<ModelStatisticsResponse> ReadAsync(string? name, string? version, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        List<(string Model, string Version)> wanted;
        if (name is null)
        {
            var members = await Guard(db.SetMembersAsync(ModelStatisticsKeys.Index));
            wanted = [.. members.Select(m => m.ToString().Split('\n')).Where(p => p.Length == 2).Select(p => (p[0], p[1]))
                .OrderBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => int.TryParse(p.Item2, out var v) ? v : 0)];
        }
        else
        {
            var info = await repository.DescribeAsync(name, cancellationToken);
            var versions = info.Versions.Where(v => !v.Archived).Select(v => v.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
            if (version is not null)
            {
                if (!versions.Contains(version, StringComparer.Ordinal))
                {
                    throw new InferenceProtocolException($"Unknown version '{version}' of model '{name}'.", StatusCodes.Status404NotFound);
                }
                versions = [version];
            }
            wanted = [.. versions.Select(v => (name, v))];
        }

        var reads = wanted.Select(w => db.HashGetAllAsync(ModelStatisticsKeys.Version(w.Model, w.Version))).ToList();
        var stats = new List<VersionStatistics>(wanted.Count);
        for (var i = 0; i < wanted.Count; i++)
        {
            var fields = (await Guard(reads[i])).ToDictionary(e => e.Name.ToString(), e => (long)e.Value);
            long F(string field) => fields.TryGetValue(field, out var value) ? value : 0;
            StatisticDuration D(string prefix) => new(F(prefix + "_count"), F(prefix + "_ns"));
            stats.Add(new VersionStatistics(wanted[i].Model, wanted[i].Version, F(ModelStatisticsKeys.LastInference), F("inference_count"),
                F(ModelStatisticsKeys.ExecutionCount),
                new InferStatistics(D("success"), D("fail"), D("queue"), D("compute_input"), D("compute_infer"), D("compute_output"), D("cache_hit"), D("cache_miss")),
                []));
        }
        return new ModelStatisticsResponse(stats);
    }

    private static async Task<T> Guard<T>(Task<T> read)
    {
        try
        {
            return await read;
        }
        catch (RedisException ex)
        {
            throw new InferenceProtocolException($"Statistics are unavailable: Redis does not answer ({ex.Message}).", StatusCodes.Status503ServiceUnavailable);
        }
    }
}
