using Microsoft.AspNetCore.Http.HttpResults;
using MlPlatform.Inference.Protocol;
using MlPlatform.OnlineScorer.Model;
using MlPlatform.OnlineScorer.Telemetry;

namespace MlPlatform.OnlineScorer.Apis;

/// <summary>Triton's statistics extension: cumulative per-version statistics, summed over every online scorer replica.</summary>
public static class StatisticsApi
{
    public static IEndpointRouteBuilder MapStatisticsApi(this IEndpointRouteBuilder app)
    {
        // "stats" is a reserved model name, so the literal segment can never hide a model's metadata.
        var api = app.MapGroup("/v2/models").WithTags("Statistics");
        api.MapGet("/stats", All).WithName("ModelStatisticsAll").WithSummary("Statistics of every model version that has answered");
        api.MapGet("/{name}/stats", Model).WithName("ModelStatistics").WithSummary("Statistics of every version of a model");
        api.MapGet("/{name}/versions/{version}/stats", Version).WithName("ModelVersionStatistics").WithSummary("Statistics of one model version");
        return app;
    }

    public static Task<Results<Ok<ModelStatisticsResponse>, V2ErrorResult>> All(ModelStatisticsReader reader, CancellationToken cancellationToken) =>
        ReadAsync(reader, null, null, cancellationToken);

    public static Task<Results<Ok<ModelStatisticsResponse>, V2ErrorResult>> Model(string name, ModelStatisticsReader reader, CancellationToken cancellationToken) =>
        ReadAsync(reader, name, null, cancellationToken);

    public static Task<Results<Ok<ModelStatisticsResponse>, V2ErrorResult>> Version(string name, string version, ModelStatisticsReader reader,
        CancellationToken cancellationToken) =>
        ReadAsync(reader, name, version, cancellationToken);

    public static async Task<Results<Ok<ModelStatisticsResponse>, V2ErrorResult>> ReadAsync(ModelStatisticsReader reader, string? name, string? version,
        CancellationToken cancellationToken)
    {
        try
        {
            return TypedResults.Ok(await reader.ReadAsync(name, version, cancellationToken));
        }
        catch (InferenceProtocolException ex)
        {
            return new V2ErrorResult(ex.StatusCode, ex.Message);
        }
    }
}
