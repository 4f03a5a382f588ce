using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MlPlatform.Bench;

/// <summary>
/// The baseline the issue measures against: a hand-written endpoint that deserialises V2 JSON with System.Text.Json into arrays,
/// builds a DenseTensor/NamedOnnxValue, calls Run once per request (no batching) and serialises the outputs back to JSON.
/// </summary>
public sealed class NaiveEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly InferenceSession _session;

    private NaiveEndpoint(WebApplication app, InferenceSession session)
    {
        _app = app;
        _session = session;
    }

    public string Url { get; private set; } = "";

    /// <param name="tuned">One intra-op thread and every graph optimisation, as the scorer runs it (the target's baseline); false keeps ORT's defaults.</param>
    public static async Task<NaiveEndpoint> StartAsync(string modelPath, bool tuned = true)
    {
        using var options = tuned
            ? new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL }
            : new Microsoft.ML.OnnxRuntime.SessionOptions();
        var session = new InferenceSession(modelPath, options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/infer", (NaiveRequest request) =>
        {
            var input = request.Inputs[0];
            var tensor = new DenseTensor<float>(input.Data, input.Shape.Select(d => (int)d).ToArray());
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(input.Name, tensor)]);
            var outputs = results.Select(r =>
            {
                var t = r.AsTensor<float>();
                return new NaiveTensor(r.Name, t.Dimensions.ToArray().Select(d => (long)d).ToArray(), "FP32", t.ToArray());
            }).ToArray();
            return Results.Ok(new NaiveResponse("conv", "1", outputs));
        });
        await app.StartAsync();
        var endpoint = new NaiveEndpoint(app, session);
        endpoint.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return endpoint;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _session.Dispose();
    }

    public sealed record NaiveTensor(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("shape")] long[] Shape,
        [property: JsonPropertyName("datatype")] string Datatype,
        [property: JsonPropertyName("data")] float[] Data);

    public sealed record NaiveRequest([property: JsonPropertyName("inputs")] NaiveTensor[] Inputs);

    public sealed record NaiveResponse(
        [property: JsonPropertyName("model_name")] string ModelName,
        [property: JsonPropertyName("model_version")] string ModelVersion,
        [property: JsonPropertyName("outputs")] NaiveTensor[] Outputs);
}
