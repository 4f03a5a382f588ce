using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Registry;
using MlPlatform.OnlineScorer.Model;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Apis;

/// <summary>Open Inference Protocol (KServe V2) server metadata, model metadata, model readiness and inference.</summary>
public static class InferenceApi
{
    private static readonly string ServerVersion =
        typeof(InferenceApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static IEndpointRouteBuilder MapInferenceApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v2").WithTags("Inference");
        api.MapGet("", ServerMetadata).WithName("ServerMetadata").WithSummary("Server name, version and protocol extensions");

        var model = api.MapGroup("/models/{name}");
        model.MapGet("", ModelMetadata).WithName("ModelMetadata").WithSummary("Model metadata (production version's signature)");
        model.MapGet("/ready", ModelReady).WithName("ModelReady").WithSummary("Whether the model's production version is loaded");
        model.MapPost("/infer", Infer).WithName("ModelInfer").WithSummary("Infer with the production version (canary takes its weighted share)");
        model.MapGet("/versions/{version}", VersionMetadata).WithName("ModelVersionMetadata").WithSummary("Metadata of one model version");
        model.MapGet("/versions/{version}/ready", VersionReady).WithName("ModelVersionReady").WithSummary("Whether one model version is loaded");
        model.MapPost("/versions/{version}/infer", InferVersion).WithName("ModelVersionInfer").WithSummary("Infer with one model version, loaded on demand");
        return app;
    }

    public static Ok<ServerMetadataResponse> ServerMetadata() =>
        TypedResults.Ok(new ServerMetadataResponse("mlplatform-onlinescorer", ServerVersion, ["binary_tensor_data", "statistics"]));

    public static async Task<Results<Ok<ModelMetadataResponse>, V2ErrorResult>> ModelMetadata(string name, ModelRepository repository, CancellationToken cancellationToken)
    {
        try
        {
            var info = await repository.DescribeAsync(name, cancellationToken);
            var production = info.FindAlias(AliasNames.Production) is { } alias ? info.FindVersion(alias.Version) : null;
            var shown = production ?? info.Versions.LastOrDefault(v => !v.Archived);
            if (shown is null)
            {
                return new V2ErrorResult(StatusCodes.Status404NotFound, $"Model '{name}' has no versions.");
            }
            var versions = info.Versions.Where(v => !v.Archived).Select(v => v.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            return TypedResults.Ok(new ModelMetadataResponse(name, versions, "onnx_onnxv1", shown.Signature.Inputs, shown.Signature.Outputs));
        }
        catch (InferenceProtocolException ex)
        {
            return new V2ErrorResult(ex.StatusCode, ex.Message);
        }
    }

    public static async Task<Results<Ok<ModelMetadataResponse>, V2ErrorResult>> VersionMetadata(string name, string version, ModelRepository repository, CancellationToken cancellationToken)
    {
        try
        {
            var info = await repository.DescribeAsync(name, cancellationToken);
            var found = int.TryParse(version, out var number) ? info.FindVersion(number) : null;
            if (found is null)
            {
                return new V2ErrorResult(StatusCodes.Status404NotFound, $"Unknown version '{version}' of model '{name}'.");
            }
            return TypedResults.Ok(new ModelMetadataResponse(name, [version], "onnx_onnxv1", found.Signature.Inputs, found.Signature.Outputs));
        }
        catch (InferenceProtocolException ex)
        {
            return new V2ErrorResult(ex.StatusCode, ex.Message);
        }
    }

    public static async Task<Results<Ok<ModelReadyResponse>, JsonHttpResult<ModelReadyResponse>, V2ErrorResult>> ModelReady(string name, ModelRepository repository, CancellationToken cancellationToken)
    {
        try
        {
            await repository.DescribeAsync(name, cancellationToken);
            return repository.FindProduction(name) is not null
                ? TypedResults.Ok(new ModelReadyResponse(name, true))
                : TypedResults.Json(new ModelReadyResponse(name, false), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (InferenceProtocolException ex)
        {
            return new V2ErrorResult(ex.StatusCode, ex.Message);
        }
    }

    public static async Task<Results<Ok<ModelReadyResponse>, JsonHttpResult<ModelReadyResponse>, V2ErrorResult>> VersionReady(string name, string version, ModelRepository repository, CancellationToken cancellationToken)
    {
        try
        {
            var info = await repository.DescribeAsync(name, cancellationToken);
            if (!int.TryParse(version, out var number) || info.FindVersion(number) is null)
            {
                return new V2ErrorResult(StatusCodes.Status404NotFound, $"Unknown version '{version}' of model '{name}'.");
            }
            return repository.FindLoaded(name, number) is not null
                ? TypedResults.Ok(new ModelReadyResponse(name, true))
                : TypedResults.Json(new ModelReadyResponse(name, false), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (InferenceProtocolException ex)
        {
            return new V2ErrorResult(ex.StatusCode, ex.Message);
        }
    }

    public static Task<IResult> Infer(string name, HttpContext context, InferenceService inference, IOptions<InferenceLimitsOptions> limits) =>
        InferOverHttpAsync(context, new InferCall(name, null, context.RequestAborted), inference, limits.Value);

    public static Task<IResult> InferVersion(string name, string version, HttpContext context, InferenceService inference, IOptions<InferenceLimitsOptions> limits) =>
        InferOverHttpAsync(context, new InferCall(name, version, context.RequestAborted), inference, limits.Value);

    private static async Task<IResult> InferOverHttpAsync(HttpContext context, InferCall call, InferenceService inference, InferenceLimitsOptions limits)
    {
        using var transport = new HttpInferTransport(context.Request, limits);
        var outcome = await inference.InferAsync(call, transport);
        return outcome.Succeeded
            ? outcome.Response!
            : new V2ErrorResult(outcome.StatusCode, outcome.Error!, outcome.RetryAfterSeconds);
    }
}
