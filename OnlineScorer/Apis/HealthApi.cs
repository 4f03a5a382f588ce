using Microsoft.AspNetCore.Http.HttpResults;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Apis;

/// <summary>Open Inference Protocol health: the status code is the signal, the body says the same.</summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v2/health").WithTags("Health");
        api.MapGet("/live", Live).WithName("ServerLive").WithSummary("Server liveness");
        api.MapGet("/ready", Ready).WithName("ServerReady").WithSummary("Server readiness");
        return app;
    }

    public static Ok<LiveResponse> Live() => TypedResults.Ok(new LiveResponse(true));

    public static Results<Ok<ReadyResponse>, JsonHttpResult<ReadyResponse>> Ready(ServerReadiness readiness) =>
        readiness.IsReady
            ? TypedResults.Ok(new ReadyResponse(true))
            : TypedResults.Json(new ReadyResponse(false), statusCode: StatusCodes.Status503ServiceUnavailable);

    public sealed record LiveResponse(bool Live);

    public sealed record ReadyResponse(bool Ready);
}
