using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Registry;
using MlPlatform.OnlineScorer.Model;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Apis;

/// <summary>
/// Triton's model repository extension, index only: every registered model with, per version, its state on this replica
/// (<c>READY</c> when loaded, <c>UNAVAILABLE</c> with the reason otherwise).
/// </summary>
public static class RepositoryApi
{
    public static IEndpointRouteBuilder MapRepositoryApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v2/repository/index", Index).WithTags("Repository").WithName("RepositoryIndex")
            .WithSummary("Every model version and its state on this replica");
        return app;
    }

    /// <summary>The body of <c>POST /v2/repository/index</c>; <c>ready</c> lists only the versions ready for inference.</summary>
    public sealed record IndexRequest([property: JsonPropertyName("ready")] bool Ready = false);

    public static async Task<Results<Ok<List<RepositoryIndexEntry>>, V2ErrorResult>> Index(IndexRequest? request, RegistryClient registry,
        ModelRepository repository, CancellationToken cancellationToken)
    {
        try
        {
            return TypedResults.Ok(await ReadIndexAsync(request?.Ready ?? false, registry, repository, cancellationToken));
        }
        catch (InferenceProtocolException ex)
        {
            return new V2ErrorResult(ex.StatusCode, ex.Message);
        }
        catch (HttpRequestException ex)
        {
            return new V2ErrorResult(StatusCodes.Status503ServiceUnavailable, $"The registry could not be reached: {ex.Message}");
        }
    }

    public static async Task<List<RepositoryIndexEntry>> ReadIndexAsync(bool readyOnly, RegistryClient registry, ModelRepository repository,
        CancellationToken cancellationToken)
    {
        var entries = new List<RepositoryIndexEntry>();
        await foreach (var summary in registry.ListAllModelsAsync(cancellationToken))
        {
            var model = await repository.DescribeAsync(summary.Name, cancellationToken);
            foreach (var version in model.Versions.Where(v => !v.Archived))
            {
                var text = version.Version.ToString(CultureInfo.InvariantCulture);
                var ready = repository.FindLoaded(model.Name, version.Version) is not null;
                if (ready || !readyOnly)
                {
                    entries.Add(ready
                        ? new RepositoryIndexEntry(model.Name, text, "READY", "")
                        : new RepositoryIndexEntry(model.Name, text, "UNAVAILABLE",
                            "not loaded on this replica: versions an alias routes to are loaded at once, others by their first request"));
                }
            }
        }
        return entries;
    }
}

/// <summary>One entry of the repository index, in Triton's format.</summary>
public sealed record RepositoryIndexEntry(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("reason")] string Reason);
