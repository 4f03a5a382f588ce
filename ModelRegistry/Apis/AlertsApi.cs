using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.ModelRegistry.Alerts;

namespace MlPlatform.ModelRegistry.Apis;

public static class AlertsApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapAlertsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/alerts").WithTags("Alerts")
            .AddEndpointFilter<ProblemJsonFilter>();

        api.MapGet("/", ListAlerts)
            .WithName("ListAlerts")
            .WithSummary("Alerts, most recently fired first; ?status=firing|resolved filters, ?limit= bounds (default 100, at most 1000)");

        return app;
    }

    public static async Task<Results<Ok<List<Alert>>, BadRequest<ProblemDetails>>> ListAlerts(
        [Description("firing or resolved")] string? status, [Description("1-1000, default 100")] int? limit, AlertStore store, CancellationToken cancellationToken)
    {
        if (status is not (null or Alert.StatusFiring or Alert.StatusResolved))
        {
            return Problems.BadRequest("Invalid status", "'status' is 'firing' or 'resolved'.");
        }
        if (limit is < 1 or > MaxLimit)
        {
            return Problems.BadRequest("Invalid limit", $"'limit' is from 1 to {MaxLimit}.");
        }
        return TypedResults.Ok(await store.ListAsync(status, limit ?? DefaultLimit, cancellationToken));
    }
}
