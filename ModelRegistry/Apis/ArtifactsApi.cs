using MlPlatform.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

public static class ArtifactsApi
{
    public static IEndpointRouteBuilder MapArtifactsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Artifacts").AddEndpointFilter<ProblemJsonFilter>();

        api.MapGet("/models/{name}/versions/{version}/artifact", GetVersionArtifact)
            .WithName("GetVersionArtifact")
            .WithSummary("Download a version's ONNX file")
            .WithDescription("ETag is the sha256; honours If-None-Match (304) and Range (206). Archived versions stay downloadable for audit. 410 when the version is recorded but its file is missing from storage.");

        api.MapGet("/artifacts/{sha256}", GetArtifact)
            .WithName("GetArtifact")
            .WithSummary("Download an artifact by its sha256")
            .WithDescription("ETag is the sha256; honours If-None-Match (304) and Range (206). 410 when the artifact is recorded but its file is missing from storage.");

        return app;
    }

    public static async Task<Results<PhysicalFileHttpResult, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ProblemHttpResult>> GetVersionArtifact(
        string name, string version, HttpResponse response, ModelStore store, BlobStore blobs, ILogger<BlobStore> logger,
        CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        if (!NameRules.TryParseVersion(version, out var number))
        {
            return Problems.InvalidVersion(version);
        }
        if (await store.GetVersionAsync(name, number, cancellationToken) is not { } found)
        {
            return Problems.NotFound($"Model '{name}' has no version {number}.");
        }
        return blobs.Exists(found.Sha256)
            ? Serve(found.Sha256, $"{name}-{number}.onnx", response, blobs)
            : Missing($"Model '{name}' version {number} is recorded, but its artifact file (sha256 {found.Sha256}) is missing from the registry's storage.",
                found.Sha256, logger);
    }

    public static async Task<Results<PhysicalFileHttpResult, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ProblemHttpResult>> GetArtifact(
        string sha256, HttpResponse response, ModelStore store, BlobStore blobs, ILogger<BlobStore> logger, CancellationToken cancellationToken)
    {
        if (!NameRules.IsValidSha256(sha256))
        {
            return Problems.BadRequest("Invalid sha256", $"'{sha256}' is not a sha256: 64 lowercase hexadecimal digits.");
        }
        if (!await store.BlobExistsAsync(sha256, cancellationToken))
        {
            return Problems.NotFound($"No artifact has sha256 {sha256}.");
        }
        return blobs.Exists(sha256)
            ? Serve(sha256, $"{sha256}.onnx", response, blobs)
            : Missing($"The artifact with sha256 {sha256} is recorded, but its file is missing from the registry's storage.", sha256, logger);
    }

    /// <summary>A recorded artifact whose file is gone (lost disk, a restore without its blobs): 410 with the reason, not a bare 500.</summary>
    private static ProblemHttpResult Missing(string detail, string sha256, ILogger logger)
    {
        logger.LogError("Artifact {Sha256} is recorded but its blob file is missing; restore the blobs folder from a backup or register the model again", sha256);
        return Problems.Status(StatusCodes.Status410Gone, "Artifact file missing",
            detail + " An operator must restore it from a backup, or the model must be registered again.");
    }

    /// <summary>Content is addressed by its hash, so it never changes: the hash is the ETag and caches may keep it forever.</summary>
    private static PhysicalFileHttpResult Serve(string sha256, string fileName, HttpResponse response, BlobStore blobs)
    {
        response.Headers.CacheControl = "public, max-age=31536000, immutable";
        return TypedResults.PhysicalFile(blobs.PathFor(sha256), "application/octet-stream", fileName,
            entityTag: new EntityTagHeaderValue($"\"{sha256}\""), enableRangeProcessing: true);
    }
}
