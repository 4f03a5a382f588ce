using MlPlatform.BatchScorer.Jobs;
using MlPlatform.BatchScorer.Profiles;
using MlPlatform.BatchScorer.Queue;
using MlPlatform.BatchScorer.Results;
using MlPlatform.BatchScorer.Scoring;
using MlPlatform.BatchScorer.Storage;
using MlPlatform.BatchScorer.Telemetry;
using MlPlatform.Inference;

namespace MlPlatform.BatchScorer.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // Reconnect attempts on every heartbeat (1 s) rather than the default exponential backoff (several seconds once Redis has been down
        // a while): the job routes answer 503 while the connection is down (RedisConnectedFilter), so it must come back as soon as Redis does.
        builder.AddRedisClient("redis", configureOptions: options => options.ReconnectRetryPolicy = new StackExchange.Redis.LinearRetry(500));
        // Jobs live in Redis: while it is down every route answers 503 + Retry-After (plain message) instead of a 500.
        builder.AddDependencyUnavailableHandler(new DependencyOutage("Job state unavailable",
            "The batch scorer cannot reach the store that holds job state right now",
            ex => ex is StackExchange.Redis.RedisException or StackExchange.Redis.RedisTimeoutException));
        builder.AddInferenceCore();

        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<BatchJobOptions>().BindConfiguration(BatchJobOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<BatchWorkerOptions>().BindConfiguration(BatchWorkerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ReferenceOptions>().BindConfiguration(ReferenceOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BatchMetrics>();
        builder.Services.AddSingleton<JobFiles>();
        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<JobLifecycle>();
        builder.Services.AddSingleton<JobRestorer>();
        builder.Services.AddSingleton<JobRetention>();
        builder.Services.AddSingleton<ChunkQueue>();
        builder.Services.AddSingleton<ModelResolver>();
        builder.Services.AddSingleton<ModelSessions>();
        builder.Services.AddSingleton<ChunkScorer>();
        builder.Services.AddSingleton<JobSubmitter>();
        builder.Services.AddSingleton<ResultReader>();
        builder.Services.AddSingleton<ReferenceProfiler>();

        builder.Services.AddHostedService<ChunkWorker>();
        builder.Services.AddHostedService<JobReconciler>();
    }
}
