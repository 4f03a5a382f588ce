using Microsoft.Extensions.Options;
using MlPlatform.ModelRegistry.Inspection;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Registration;

/// <summary>The outcome of a registration.</summary>
public abstract record RegistrationOutcome
{
    public sealed record Registered(CreatedVersion Created) : RegistrationOutcome;

    /// <summary>The file is not a model the platform can serve (ONNX Runtime's reason, external data, a limit hit while opening it).</summary>
    public sealed record Refused(string Reason) : RegistrationOutcome;

    /// <summary>The <c>Idempotency-Key</c> was used before with other bytes.</summary>
    public sealed record KeyConflict(string Reason) : RegistrationOutcome;
}

/// <summary>
/// Registers a model version: the upload is staged and hashed by the <see cref="BlobStore"/>, opened by ONNX Runtime in a separate process
/// (unless identical bytes passed before), and only then given a version number. Used by the API and by the demo seed alike.
/// </summary>
public sealed class ModelRegistration(
    BlobStore blobs, ModelStore store, ModelInspector inspector, IOptions<RegistrationOptions> options, ILogger<ModelRegistration> logger)
{
    public long MaxArtifactBytes => options.Value.MaxArtifactBytes;

    /// <inheritdoc cref="BlobStore.StageAsync"/>
    public Task<StagedBlob> StageAsync(Stream content, CancellationToken cancellationToken) =>
        blobs.StageAsync(content, options.Value.MaxArtifactBytes, cancellationToken);

    /// <summary>Registers <paramref name="staged"/> as the next version; <paramref name="createdBy"/> is the registering key's id.</summary>
    public async Task<RegistrationOutcome> RegisterAsync(
        string name, StagedBlob staged, string? description, IReadOnlyDictionary<string, string> tags, string? idempotencyKey,
        string? createdBy, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(staged.Length);
        using (await blobs.LockAsync(staged.Sha256, cancellationToken))
        {
            var known = await store.FindBlobSignatureAsync(staged.Sha256, cancellationToken);
            var path = blobs.Commit(staged);
            if (known is null)
            {
                InspectionReport report;
                try
                {
                    report = await inspector.InspectAsync(path, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    blobs.Forget(staged.Sha256);
                    throw;
                }
                if (report.Signature is null)
                {
                    blobs.Forget(staged.Sha256);
                    logger.LogInformation("Refused a model for {Model}: {Reason}", name, report.Error);
                    return new RegistrationOutcome.Refused(report.Error ?? "The model could not be inspected.");
                }
                await store.AddBlobAsync(staged.Sha256, staged.Length, report.Signature, cancellationToken);
            }
        }

        var created = await store.CreateVersionAsync(name, staged.Sha256, description, tags, idempotencyKey,
            TimeSpan.FromHours(options.Value.IdempotencyKeyHours), createdBy, cancellationToken);
        if (created.Status == StoreStatus.Conflict)
        {
            return new RegistrationOutcome.KeyConflict(created.Error!);
        }
        if (!created.Value!.Replayed)
        {
            logger.LogInformation("Registered {Model} version {Version} ({Sha256}, {Bytes} bytes)",
                name, created.Value.Version.Version, staged.Sha256, staged.Length);
        }
        return new RegistrationOutcome.Registered(created.Value);
    }
}
