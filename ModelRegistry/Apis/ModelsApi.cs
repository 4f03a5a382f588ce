using MlPlatform.Contracts;
using System.ComponentModel;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Naming;
using MlPlatform.ModelRegistry.Registration;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

public static class ModelsApi
{
    public const int MaxPageSize = 500;
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    private const int MaxIdempotencyKeyLength = 200;
    // Room for multipart boundaries and the small text fields around the file.
    private const long MultipartOverheadBytes = 1 << 20;

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        // "Model registry", not "Models": the API reference lists schemas and V2 inference beside it.
        var api = app.MapGroup("/v1/models").WithTags("Model registry")
            .AddEndpointFilter<ProblemJsonFilter>();

        api.MapGet("/", ListModels)
            .WithName("ListModels")
            .WithSummary("List registered models")
            .WithDescription("Paged list of models, optionally filtered by a name prefix and by a tag (k=v) on any live version.");

        api.MapGet("/{name}", GetModel)
            .WithName("GetModel")
            .WithSummary("Get a model with its versions and aliases");

        api.MapPost("/{name}/versions", RegisterVersion)
            .WithName("RegisterVersion")
            .WithSummary("Register a new version of a model")
            .WithDescription("Body: the ONNX file as application/octet-stream (description and tags in the query), or multipart/form-data with "
                + "'file' and optional 'description' and 'tags'. The file is opened by ONNX Runtime in a separate process to read its signature. "
                + "An Idempotency-Key header makes a retry return the first result.")
            // Other media types get 415 from routing.
            .Accepts<byte[]>("application/octet-stream", "multipart/form-data");

        api.MapGet("/{name}/versions/{version}", GetVersion)
            .WithName("GetVersion")
            .WithSummary("Get one version of a model");

        api.MapPatch("/{name}/versions/{version}", PatchVersion)
            .WithName("PatchVersion")
            .WithSummary("Change a version's description and tags");

        api.MapDelete("/{name}/versions/{version}", ArchiveVersion)
            .WithName("ArchiveVersion")
            .WithSummary("Archive a version")
            .WithDescription("The version stays readable and its artifact stays for audit, but no alias may point at it. 409 while an alias points at it or it is pinned on the online scorers. "
                + "?reason= (optional, at most 1000 characters) is recorded on the version with the caller (archiveReason, archivedBy).");

        return app;
    }

    public static async Task<Results<Ok<PaginatedItems<ModelSummary>>, BadRequest<ProblemDetails>>> ListModels(
        [AsParameters] PaginationRequest paging,
        [Description("Only models whose name starts with this prefix")] string? prefix,
        [Description("Only models with a live version carrying this tag, as k=v")] string? tag,
        ModelStore store,
        CancellationToken cancellationToken)
    {
        if (paging.PageSize is < 1 or > MaxPageSize || paging.PageIndex < 0)
        {
            return Problems.BadRequest("Invalid paging", $"pageSize must be between 1 and {MaxPageSize} and pageIndex at least 0.");
        }
        KeyValuePair<string, string>? tagFilter = null;
        if (tag is not null)
        {
            if (!TagRules.TryParseFilter(tag, out var parsed))
            {
                return Problems.BadRequest("Invalid tag filter", $"'{tag}' is not a tag filter of the form k=v.");
            }
            tagFilter = parsed;
        }
        return TypedResults.Ok(await store.ListModelsAsync(paging.PageIndex, paging.PageSize, prefix, tagFilter, cancellationToken));
    }

    public static async Task<Results<Ok<ModelDetails>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> GetModel(
        string name, ModelStore store, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        return await store.GetModelAsync(name, cancellationToken) is { } model
            ? TypedResults.Ok(model)
            : Problems.NotFound($"Model '{name}' does not exist.");
    }

    public static async Task<Results<Created<ModelVersion>, BadRequest<ProblemDetails>, Conflict<ProblemDetails>, UnprocessableEntity<ProblemDetails>, ProblemHttpResult>>
        RegisterVersion(
            string name,
            HttpContext context,
            [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
            [Description("Version description (raw uploads; multipart sends a 'description' field)")] string? description,
            [Description("Tags as k=v,k=v or a JSON object (raw uploads; multipart sends a 'tags' field)")] string? tags,
            ModelRegistration registration,
            CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        if (idempotencyKey is { Length: 0 or > MaxIdempotencyKeyLength })
        {
            return Problems.BadRequest("Invalid Idempotency-Key", $"An Idempotency-Key has 1 to {MaxIdempotencyKeyLength} characters.");
        }

        var request = context.Request;
        var max = registration.MaxArtifactBytes;
        var isMultipart = request.HasFormContentType && request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        if (request.ContentLength > max + (isMultipart ? MultipartOverheadBytes : 0))
        {
            return TooLarge(max);
        }
        if (request.ContentLength == 0)
        {
            return EmptyBody();
        }
        // Kestrel's own 30 MB default must not pre-empt the configured limit; the stream is counted while it is stored.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = max + MultipartOverheadBytes;
        }

        StagedBlob? staged = null;
        try
        {
            if (isMultipart)
            {
                var form = await ReadMultipartAsync(request, registration, max, cancellationToken);
                if (form.Error is not null)
                {
                    return Problems.BadRequest("Invalid multipart upload", form.Error);
                }
                (staged, description, tags) = (form.File, form.Description, form.Tags);
            }
            else
            {
                staged = await registration.StageAsync(request.Body, cancellationToken);
            }

            if (staged is null || staged.Length == 0)
            {
                return EmptyBody();
            }
            if (description?.Length > TagRules.MaxDescriptionLength)
            {
                return Problems.BadRequest("Invalid description", $"A description has at most {TagRules.MaxDescriptionLength} characters.");
            }
            if (!TagRules.TryParse(tags, out var parsedTags, out var tagError))
            {
                return Problems.BadRequest("Invalid tags", tagError!);
            }

            var caller = Problems.CallerOf(request);
            var outcome = await registration.RegisterAsync(name, staged, description, parsedTags, idempotencyKey,
                caller.Actor == Problems.Anonymous ? null : caller.Actor, cancellationToken);
            switch (outcome)
            {
                case RegistrationOutcome.Registered { Created: var created }:
                    if (created.Replayed)
                    {
                        context.Response.Headers[ReplayedHeader] = "true";
                    }
                    return TypedResults.Created($"/v1/models/{name}/versions/{created.Version.Version}", created.Version);
                case RegistrationOutcome.KeyConflict conflict:
                    return Problems.Conflict("Idempotency-Key reused", conflict.Reason);
                case RegistrationOutcome.Refused refused:
                    return Problems.Unprocessable("Not a servable ONNX model", refused.Reason);
                default:
                    throw new InvalidOperationException($"Unknown registration outcome {outcome}.");
            }
        }
        catch (ArtifactTooLargeException)
        {
            return TooLarge(max);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(max);
        }
        finally
        {
            staged?.Dispose();
        }
    }

    public static async Task<Results<Ok<ModelVersion>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> GetVersion(
        string name, string version, ModelStore store, CancellationToken cancellationToken)
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
            ? TypedResults.Ok(found)
            : Problems.NotFound($"Model '{name}' has no version {number}.");
    }

    public static async Task<Results<Ok<ModelVersion>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> PatchVersion(
        string name, string version, VersionPatch patch, ModelStore store, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        if (!NameRules.TryParseVersion(version, out var number))
        {
            return Problems.InvalidVersion(version);
        }
        if (patch.Description?.Length > TagRules.MaxDescriptionLength)
        {
            return Problems.BadRequest("Invalid description", $"A description has at most {TagRules.MaxDescriptionLength} characters.");
        }
        if (patch.Tags is not null && !TagRules.Validate(patch.Tags, out var tagError))
        {
            return Problems.BadRequest("Invalid tags", tagError!);
        }
        return await store.PatchVersionAsync(name, number, patch, cancellationToken) is { } patched
            ? TypedResults.Ok(patched)
            : Problems.NotFound($"Model '{name}' has no version {number}.");
    }

    public static async Task<Results<Ok<ModelVersion>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> ArchiveVersion(
        string name, string version, [Description("Why the version is archived (recorded on the version); optional")] string? reason,
        HttpRequest request, ModelStore store, CancellationToken cancellationToken)
    {
        if (Problems.CheckName(name) is { } invalid)
        {
            return invalid;
        }
        if (!NameRules.TryParseVersion(version, out var number))
        {
            return Problems.InvalidVersion(version);
        }
        if (Problems.CheckOptionalReason(reason) is { } badReason)
        {
            return badReason;
        }
        var result = await store.ArchiveVersionAsync(name, number, Problems.CallerOf(request).Actor, Problems.TrimmedOrNull(reason), cancellationToken);
        return result.Status switch
        {
            StoreStatus.Ok => TypedResults.Ok(result.Value!),
            StoreStatus.Conflict => Problems.Conflict("Version is in use", result.Error!),
            _ => Problems.NotFound(result.Error!),
        };
    }

    private static ProblemHttpResult TooLarge(long max) =>
        Problems.Status(StatusCodes.Status413PayloadTooLarge, "Model file too large",
            $"The model file is larger than the maximum of {max} bytes (Registration:MaxArtifactBytes).");

    private static BadRequest<ProblemDetails> EmptyBody() =>
        Problems.BadRequest("Empty model file", "The request carries no model file: send the ONNX bytes as the body or as the multipart 'file' part.");

    private sealed record MultipartUpload(StagedBlob? File, string? Description, string? Tags, string? Error);

    /// <summary>
    /// Streams the 'file' part straight into the blob store (never buffered in memory); the text parts may come before or after it.
    /// The reader has no section limit of its own: the blob store counts the file against the artifact limit, and Kestrel bounds the whole body.
    /// </summary>
    private static async Task<MultipartUpload> ReadMultipartAsync(
        HttpRequest request, ModelRegistration registration, long max, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            return new MultipartUpload(null, null, null, "The multipart content type has no boundary.");
        }
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
        StagedBlob? file = null;
        string? description = null, tags = null;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                var disposition = section.GetContentDispositionHeader();
                switch (disposition?.Name.Value)
                {
                    case "file" when file is null:
                        file = await registration.StageAsync(section.Body, cancellationToken);
                        break;
                    case "file":
                        file?.Dispose();
                        return new MultipartUpload(null, null, null, "Send exactly one 'file' part.");
                    case "description":
                        description = await ReadTextAsync(section.Body, TagRules.MaxDescriptionLength + 1, cancellationToken);
                        break;
                    case "tags":
                        tags = await ReadTextAsync(section.Body, 16 * 1024, cancellationToken);
                        break;
                    default:
                        await section.Body.CopyToAsync(Stream.Null, cancellationToken);
                        break;
                }
            }
        }
        catch (InvalidDataException ex)
        {
            file?.Dispose();
            return new MultipartUpload(null, null, null, $"The multipart body is malformed: {ex.Message}");
        }
        catch
        {
            file?.Dispose();
            throw;
        }
        return new MultipartUpload(file, description, tags, null);
    }

    private static async Task<string> ReadTextAsync(Stream body, int maxChars, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body, Encoding.UTF8);
        var buffer = new char[maxChars];
        var total = 0;
        int read;
        while (total < maxChars && (read = await reader.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }
        // Over-long text is cut at maxChars, which the callers' own limit (maxChars - 1 or less) then rejects.
        await body.CopyToAsync(Stream.Null, cancellationToken);
        return new string(buffer, 0, total);
    }
}
