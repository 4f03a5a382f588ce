using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

public static class ServingApi
{
    public static IEndpointRouteBuilder MapServingApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models/{name}/serving").WithTags("Serving")
            .AddEndpointFilter<ProblemJsonFilter>();

        api.MapGet("/", GetServing)
            .WithName("GetServingSettings")
            .WithSummary("Get how the scorers serve a model")
            .WithDescription("Null members mean the scorer's own default.");

        api.MapPut("/", PutServing)
            .WithName("PutServingSettings")
            .WithSummary("Replace how the scorers serve a model")
            .WithDescription("Batching (enabled, maxBatchSize 1-4096, maxQueueDelayMs 0-10000), instanceCount 1-64, warm-up shapes (batch axis included), response cache. A change publishes a serving-changed event.");

        return app;
    }

    public static async Task<Results<Ok<ServingSettings>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> GetServing(
        string name, ServingStore store, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        var result = await store.GetServingAsync(name, cancellationToken);
        return result.Status == StoreStatus.Ok ? TypedResults.Ok(result.Value!) : Problems.NotFound(result.Error!);
    }

    public static async Task<Results<Ok<ServingSettings>, BadRequest<ProblemDetails>, ValidationProblem, NotFound<ProblemDetails>>> PutServing(
        string name, ServingSettings settings, ServingStore store, ModelStore models, EventPublisher events, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        var errors = settings.Validate();
        if (errors.Count == 0 && settings.Quality is not null && await models.GetModelAsync(name, cancellationToken) is { } model)
        {
            errors = settings.CheckQualityOutput(model.Versions) ?? errors;
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid serving settings");
        }
        var result = await store.PutServingAsync(name, settings, cancellationToken);
        if (result.Status != StoreStatus.Ok)
        {
            return Problems.NotFound(result.Error!);
        }
        // After the commit, so a scorer that reacts reads the new settings.
        if (result.Value!.Event is { } change)
        {
            await events.PublishAsync(change);
        }
        return TypedResults.Ok(result.Value.Settings);
    }
}
