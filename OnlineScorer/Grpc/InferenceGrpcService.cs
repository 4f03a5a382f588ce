using Grpc.Core;
using Microsoft.AspNetCore.Http.HttpResults;
using MlPlatform.GrpcContracts;
using MlPlatform.OnlineScorer.Apis;
using V2ErrorResult = MlPlatform.OnlineScorer.Model.V2ErrorResult;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Grpc;

/// <summary>
/// <c>inference.GRPCInferenceService</c>: the Open Inference Protocol over gRPC. Each RPC answers through the same code as its REST
/// route (health, metadata and readiness handlers of <see cref="InferenceApi"/>, inference through <see cref="InferenceService"/>),
/// so the two front ends cannot drift apart; REST errors become gRPC status codes with the same message.
/// </summary>
public sealed class InferenceGrpcService(InferenceService inference, ModelRepository repository, ServerReadiness readiness,
    Telemetry.ModelStatisticsReader statistics, Inference.Registry.RegistryClient registry, Microsoft.Extensions.Options.IOptions<InferenceLimitsOptions> limits)
    : GRPCInferenceService.GRPCInferenceServiceBase
{
    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = readiness.IsReady });

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var metadata = InferenceApi.ServerMetadata().Value!;
        var response = new ServerMetadataResponse { Name = metadata.Name, Version = metadata.Version };
        response.Extensions.AddRange(metadata.Extensions);
        return Task.FromResult(response);
    }

    public override async Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var result = request.Version.Length == 0
            ? (await InferenceApi.ModelMetadata(request.Name, repository, context.CancellationToken)).Result
            : (await InferenceApi.VersionMetadata(request.Name, request.Version, repository, context.CancellationToken)).Result;
        var metadata = Unwrap<Model.ModelMetadataResponse>(result);
        var response = new ModelMetadataResponse { Name = metadata.Name, Platform = metadata.Platform };
        response.Versions.AddRange(metadata.Versions);
        foreach (var input in metadata.Inputs)
        {
            response.Inputs.Add(ToTensorMetadata(input));
        }
        foreach (var output in metadata.Outputs)
        {
            response.Outputs.Add(ToTensorMetadata(output));
        }
        return response;
    }

    public override async Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        var result = request.Version.Length == 0
            ? (await InferenceApi.ModelReady(request.Name, repository, context.CancellationToken)).Result
            : (await InferenceApi.VersionReady(request.Name, request.Version, repository, context.CancellationToken)).Result;
        // REST answers "not ready" with 503 and a body; gRPC with ready = false.
        var ready = result is JsonHttpResult<Model.ModelReadyResponse> { Value: { } notReady } ? notReady : Unwrap<Model.ModelReadyResponse>(result);
        return new ModelReadyResponse { Ready = ready.Ready };
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        var outcome = await InferAsync(request, context);
        return outcome.Succeeded ? outcome.Response! : throw GrpcErrors.From(outcome, context);
    }

    /// <summary>Answers each request in the order received, an error as the response's <c>error_message</c> (the stream goes on).</summary>
    public override async Task ModelStreamInfer(IAsyncStreamReader<ModelInferRequest> requestStream, IServerStreamWriter<ModelStreamInferResponse> responseStream,
        ServerCallContext context)
    {
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            var outcome = await InferAsync(request, context);
            if (outcome.StatusCode == 499)
            {
                throw GrpcErrors.From(outcome, context);
            }
            await responseStream.WriteAsync(!outcome.Succeeded
                ? new ModelStreamInferResponse
                {
                    ErrorMessage = outcome.Error!,
                    InferResponse = new ModelInferResponse { ModelName = request.ModelName, ModelVersion = request.ModelVersion, Id = request.Id },
                }
                : new ModelStreamInferResponse { InferResponse = outcome.Response }, context.CancellationToken);
        }
    }

    public override async Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context)
    {
        var result = await StatisticsApi.ReadAsync(statistics, request.Name.Length > 0 ? request.Name : null,
            request.Name.Length > 0 && request.Version.Length > 0 ? request.Version : null, context.CancellationToken);
        var read = Unwrap<Model.ModelStatisticsResponse>(result.Result);
        var response = new ModelStatisticsResponse();
        foreach (var v in read.ModelStats)
        {
            var s = v.InferenceStats;
            response.ModelStats.Add(new GrpcContracts.ModelStatistics
            {
                Name = v.Name,
                Version = v.Version,
                LastInference = (ulong)v.LastInference,
                InferenceCount = (ulong)v.InferenceCount,
                ExecutionCount = (ulong)v.ExecutionCount,
                InferenceStats = new GrpcContracts.InferStatistics
                {
                    Success = Duration(s.Success), Fail = Duration(s.Fail), Queue = Duration(s.Queue), ComputeInput = Duration(s.ComputeInput),
                    ComputeInfer = Duration(s.ComputeInfer), ComputeOutput = Duration(s.ComputeOutput), CacheHit = Duration(s.CacheHit),
                    CacheMiss = Duration(s.CacheMiss),
                },
            });
        }
        return response;
    }

    public override async Task<RepositoryIndexResponse> RepositoryIndex(RepositoryIndexRequest request, ServerCallContext context)
    {
        var index = Unwrap<List<RepositoryIndexEntry>>((await RepositoryApi.Index(new RepositoryApi.IndexRequest(request.Ready), registry, repository,
            context.CancellationToken)).Result);
        var response = new RepositoryIndexResponse();
        foreach (var entry in index)
        {
            response.Models.Add(new RepositoryIndexResponse.Types.ModelIndex { Name = entry.Name, Version = entry.Version, State = entry.State, Reason = entry.Reason });
        }
        return response;
    }

    private static StatisticDuration Duration(Model.StatisticDuration d) => new() { Count = (ulong)d.Count, Ns = (ulong)d.Ns };

    private Task<InferOutcome<ModelInferResponse>> InferAsync(ModelInferRequest request, ServerCallContext context)
    {
        if (request.ModelName.Length == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "'model_name' is required."));
        }
        return inference.InferAsync(new InferCall(request.ModelName, request.ModelVersion.Length > 0 ? request.ModelVersion : null, context.CancellationToken),
            new GrpcInferTransport(request, limits.Value));
    }

    private static T Unwrap<T>(IResult result) => result switch
    {
        IValueHttpResult<T> { Value: { } value } => value,
        V2ErrorResult error => throw GrpcErrors.FromHttpStatus(error.StatusCode, error.Message),
        _ => throw new RpcException(new Status(StatusCode.Internal, $"Unexpected result {result.GetType().Name}.")),
    };

    private static ModelMetadataResponse.Types.TensorMetadata ToTensorMetadata(TensorSpec spec)
    {
        var tensor = new ModelMetadataResponse.Types.TensorMetadata { Name = spec.Name, Datatype = spec.Datatype };
        tensor.Shape.AddRange(spec.Shape);
        return tensor;
    }
}
