using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.OnlineScorer.Model;

/// <summary><c>GET /v2</c>.</summary>
public sealed record ServerMetadataResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("extensions")] IReadOnlyList<string> Extensions);

/// <summary><c>GET /v2/models/{name}[/versions/{version}]</c>.</summary>
public sealed record ModelMetadataResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("versions")] IReadOnlyList<string> Versions,
    [property: JsonPropertyName("platform")] string Platform,
    [property: JsonPropertyName("inputs")] IReadOnlyList<TensorSpec> Inputs,
    [property: JsonPropertyName("outputs")] IReadOnlyList<TensorSpec> Outputs);

/// <summary><c>GET /v2/models/{name}[/versions/{version}]/ready</c>.</summary>
public sealed record ModelReadyResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("ready")] bool Ready);

/// <summary>Every error under <c>/v2</c>, as the protocol defines it.</summary>
public sealed record V2ErrorResponse([property: JsonPropertyName("error")] string Error);

[JsonSerializable(typeof(ServerMetadataResponse))]
[JsonSerializable(typeof(ModelMetadataResponse))]
[JsonSerializable(typeof(ModelReadyResponse))]
[JsonSerializable(typeof(V2ErrorResponse))]
[JsonSerializable(typeof(ModelStatisticsResponse))]
[JsonSerializable(typeof(List<MlPlatform.OnlineScorer.Apis.RepositoryIndexEntry>))]
[JsonSerializable(typeof(MlPlatform.OnlineScorer.Apis.RepositoryApi.IndexRequest))]
internal sealed partial class V2JsonContext : JsonSerializerContext
{
    /// <summary>The relaxed JSON encoder of every V2 body (see <see cref="Relaxed"/>).</summary>
    public static JavaScriptEncoder Encoder => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>
    /// The context V2 bodies are written with: messages quote names ('input'), which the default encoder would send as
    /// <c>\u0027</c>. The relaxed encoder still escapes quotes, backslashes and control characters, all that JSON in an
    /// <c>application/json</c> body needs (it is never embedded in HTML).
    /// </summary>
    public static V2JsonContext Relaxed { get; } = new(new JsonSerializerOptions { Encoder = Encoder });
}
