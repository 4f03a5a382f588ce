using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using MlPlatform.ModelRegistry.Naming;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

public static class ArtifactsApi
{
    public static IEndpointRouteBuilder MapArtifactsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models/{name}/versions/{version}/artifact", GetVersionArtifact)
            .WithTags("Artifacts")
            .WithName("GetVersionArtifact")
            .WithSummary("Download a version's ONNX file")
            .WithDescription("ETag is the sha256; honours If-None-Match (304) and Range (206). Archived versions stay downloadable for audit.");

        app.MapGet("/v1/artifacts/{sha256}", GetArtifact)
            .WithTags("Artifacts")
            .WithName("GetArtifact")
            .WithSummary("Download an artifact by its sha256")
            .WithDescription("ETag is the sha256; honours If-None-Match (304) and Range (206).");

        return app;
    }

    public static async Task<Results<PhysicalFileHttpResult, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> GetVersionArtifact(
        string name, string version, HttpResponse response, ModelStore store, BlobStore blobs, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        if (!NameRules.TryParseVersion(version, out var number))
        {
            return Problems.InvalidVersion(version);
        }
        return await store.GetVersionAsync(name, number, cancellationToken) is { } found
            ? Serve(found.Sha256, $"{name}-{number}.onnx", response, blobs)
            : Problems.NotFound($"Model '{name}' has no version {number}.");
    }

    public static async Task<Results<PhysicalFileHttpResult, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> GetArtifact(
        string sha256, HttpResponse response, ModelStore store, BlobStore blobs, CancellationToken cancellationToken)
    {
        if (!NameRules.IsValidSha256(sha256))
        {
            return Problems.BadRequest("Invalid sha256", $"'{sha256}' is not a sha256: 64 lowercase hexadecimal digits.");
        }
        return await store.BlobExistsAsync(sha256, cancellationToken)
            ? Serve(sha256, $"{sha256}.onnx", response, blobs)
            : Problems.NotFound($"No artifact has sha256 {sha256}.");
    }

    /// <summary>Content is addressed by its hash, so it never changes: the hash is the ETag and caches may keep it forever.</summary>
    private static PhysicalFileHttpResult Serve(string sha256, string fileName, HttpResponse response, BlobStore blobs)
    {
        response.Headers.CacheControl = "public, max-age=31536000, immutable";
        return TypedResults.PhysicalFile(blobs.PathFor(sha256), "application/octet-stream", fileName,
            entityTag: new EntityTagHeaderValue($"\"{sha256}\""), enableRangeProcessing: true);
    }
}
