using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.BatchScorer.Jobs;

namespace MlPlatform.BatchScorer.Apis;

public static class BatchJobsApi
{
    public const int MaxPageSize = 500;

    public static IEndpointRouteBuilder MapBatchJobsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/batch/jobs").WithTags("Batch jobs");
        api.MapGet("/", ListJobs).WithName("ListBatchJobs").WithSummary("List batch jobs, newest first");
        return app;
    }

    public static async Task<Results<Ok<JobPage>, BadRequest<ProblemDetails>>> ListJobs(
        JobStore store, int pageIndex = 0, int pageSize = 50)
    {
        if (pageSize is < 1 or > MaxPageSize || pageIndex < 0)
        {
            return TypedResults.BadRequest(new ProblemDetails
            {
                Title = "Invalid paging",
                Detail = $"pageSize must be between 1 and {MaxPageSize} and pageIndex at least 0.",
                Status = StatusCodes.Status400BadRequest,
            });
        }
        return TypedResults.Ok(await store.ListAsync(pageIndex, pageSize));
    }
}
