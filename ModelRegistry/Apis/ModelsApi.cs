using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

public static class ModelsApi
{
    public const int MaxPageSize = 500;

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models").WithTags("Models");

        api.MapGet("/", ListModels)
            .WithName("ListModels")
            .WithSummary("List registered models")
            .WithDescription("Paged list of models, optionally filtered by a name prefix.");

        return app;
    }

    public static async Task<Results<Ok<PaginatedItems<ModelSummary>>, BadRequest<ProblemDetails>>> ListModels(
        [AsParameters] PaginationRequest paging,
        [Description("Only models whose name starts with this prefix")] string? prefix,
        ModelStore store,
        CancellationToken cancellationToken)
    {
        if (paging.PageSize is < 1 or > MaxPageSize || paging.PageIndex < 0)
        {
            return TypedResults.BadRequest(new ProblemDetails
            {
                Title = "Invalid paging",
                Detail = $"pageSize must be between 1 and {MaxPageSize} and pageIndex at least 0.",
                Status = StatusCodes.Status400BadRequest,
            });
        }
        return TypedResults.Ok(await store.ListModelsAsync(paging.PageIndex, paging.PageSize, prefix, cancellationToken));
    }
}
