using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Registry;
using MlPlatform.OnlineScorer.Model;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Apis;

/// <summary>
/// Triton's model repository extension: the index (every registered model with, per version, its state on this replica: <c>READY</c>
/// when loaded, <c>LOADING</c>, <c>UNAVAILABLE</c> with the reason), and load/unload, which pin a version on every replica and release it.
/// </summary>
public static class RepositoryApi
{
    public static IEndpointRouteBuilder MapRepositoryApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v2/repository/index", Index).WithTags("Repository").WithName("RepositoryIndex")
            .WithSummary("Every model version and its state on this replica");
        app.MapPost("/v2/repository/models/{name}/load", Load).WithTags("Repository").WithName("RepositoryModelLoad")
            .WithSummary("Load a version and keep it loaded on every replica until unloaded")
            .WithDescription("Body (optional): {\"parameters\": {\"version\": \"3\"}}; without a version, the version production points at, "
                + "else the latest one not archived. Answers once this replica has loaded it; the others follow within moments.");
        app.MapPost("/v2/repository/models/{name}/unload", Unload).WithTags("Repository").WithName("RepositoryModelUnload")
            .WithSummary("Release the pins of a model (or of one version)")
            .WithDescription("Body (optional): {\"parameters\": {\"version\": \"3\"}}. A version an alias routes to stays served.");
        return app;
    }

    /// <summary>
    /// Triton's HTTP client posts the repository bodies (<c>{"parameters": {"unload_dependents": false}}</c> and the like) without a
    /// <c>Content-Type</c>, which Triton's server accepts; the JSON binder would answer 415. A repository body without one is read as JSON.
    /// </summary>
    public static IApplicationBuilder UseRepositoryBodiesAsJson(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (string.IsNullOrEmpty(context.Request.ContentType) && context.Request.Path.StartsWithSegments("/v2/repository"))
            {
                context.Request.ContentType = "application/json";
            }
            return next(context);
        });

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

    /// <summary>The body of <c>POST /v2/repository/models/{name}/load</c> and <c>unload</c>; <c>version</c> is the only parameter read.</summary>
    public sealed record LoadRequest([property: JsonPropertyName("parameters")] Dictionary<string, JsonElement>? Parameters = null)
    {
        /// <summary>The <c>version</c> parameter as text (Triton clients send a string; a JSON number is taken too), or null.</summary>
        /// <exception cref="InferenceProtocolException">400 when it is neither.</exception>
        public string? VersionText() => Parameters?.GetValueOrDefault("version") is { ValueKind: not JsonValueKind.Undefined } version
            ? version.ValueKind switch
            {
                JsonValueKind.String => TextOf(version),
                JsonValueKind.Number => version.GetRawText(),
                _ => throw new InferenceProtocolException("'version' must be a version number as a string (\"3\") or an integer.",
                    StatusCodes.Status400BadRequest),
            }
            : null;

        // An escaped lone surrogate ("\ud800") is valid JSON but no string: GetString throws, and that is the client's mistake.
        private static string TextOf(JsonElement version)
        {
            try
            {
                return version.GetString()!;
            }
            catch (InvalidOperationException)
            {
                throw new InferenceProtocolException("'version' is not a valid string (it holds an unpaired surrogate escape).", StatusCodes.Status400BadRequest);
            }
        }
    }

    public static Task<Results<Ok, V2ErrorResult>> Load(string name, LoadRequest? request, HttpContext context, RepositoryLoader loader,
        CancellationToken cancellationToken) =>
        RunAsync(async () => await loader.LoadAsync(name, request?.VersionText(), ActorOf(context), cancellationToken));

    public static Task<Results<Ok, V2ErrorResult>> Unload(string name, LoadRequest? request, HttpContext context, RepositoryLoader loader,
        CancellationToken cancellationToken) =>
        RunAsync(() => loader.UnloadAsync(name, request?.VersionText(), ActorOf(context), cancellationToken));

    /// <summary>The key id the gateway authenticated (trusted: the internal credential middleware admitted the request).</summary>
    private static string? ActorOf(HttpContext context) =>
        context.Request.Headers[PlatformHeaders.Actor].ToString() is { Length: > 0 } actor ? actor : null;

    private static async Task<Results<Ok, V2ErrorResult>> RunAsync(Func<Task> change)
    {
        try
        {
            await change();
            return TypedResults.Ok();
        }
        catch (InferenceProtocolException ex)
        {
            return new V2ErrorResult(ex.StatusCode, ex.Message);
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
                var state = repository.StateOf(model.Name, version.Version);
                if (state.State == RepositoryState.Ready || !readyOnly)
                {
                    entries.Add(new RepositoryIndexEntry(model.Name, text, state.State, state.Reason));
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
