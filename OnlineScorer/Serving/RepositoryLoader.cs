using System.Globalization;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Registry;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// Triton's repository load and unload, shared by REST and gRPC. Load loads a version here first (so a version that cannot load is an
/// error, and nothing is pinned), then pins it in the registry, whose pin-changed event makes every other replica load it too; unload
/// releases the pin. The pins live in the registry, so a replica started later honours them.
/// </summary>
public sealed class RepositoryLoader(ModelRepository repository, RegistryClient registry, RouteTable routes, VersionCache versions,
    ModelReconciler reconciler, ILogger<RepositoryLoader> logger)
{
    /// <summary>
    /// Loads <paramref name="versionText"/> of <paramref name="name"/> (default: the version production points at, else the latest
    /// version not archived) and pins it on every replica until unloaded; the version pinned.
    /// </summary>
    /// <exception cref="InferenceProtocolException">400 for a malformed version, 404 unknown, 409 archived, 503 not loadable or no registry.</exception>
    public async Task<int> LoadAsync(string name, string? versionText, string? actor, CancellationToken cancellationToken)
    {
        var info = await repository.DescribeAsync(name, cancellationToken);
        var version = versionText is null ? DefaultVersion(info) : Find(info, ParseVersion(versionText));
        var state = routes.GetOrAdd(name);
        state.Loading.TryAdd(version.Version, 0);
        VersionLease lease;
        try
        {
            var settings = state.Info is null ? await ReadSettingsAsync(name, cancellationToken) : state.Settings;
            lease = await versions.AcquireAsync(name, version, settings, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not InferenceProtocolException)
        {
            throw new InferenceProtocolException($"Version {version.Version} of model '{name}' could not be loaded: {ex.Message}",
                StatusCodes.Status503ServiceUnavailable);
        }
        finally
        {
            state.Loading.TryRemove(version.Version, out _);
        }
        using (lease)
        {
            await WriteRegistryAsync(() => registry.PinAsync(name, version.Version, actor, cancellationToken), "record the pin", cancellationToken);
            logger.LogInformation("Model {Model}: version {Version} loaded and pinned by {Actor}", name, version.Version, actor ?? "a platform service");
            await ReconcileHereAsync(name, cancellationToken);
        }
        return version.Version;
    }

    /// <summary>Releases the pin of <paramref name="versionText"/>, or every pin of <paramref name="name"/> when null.</summary>
    /// <exception cref="InferenceProtocolException">400 for a malformed version, 404 for an unknown model, 503 without the registry.</exception>
    public async Task UnloadAsync(string name, string? versionText, string? actor, CancellationToken cancellationToken)
    {
        await repository.DescribeAsync(name, cancellationToken);
        int? version = versionText is null ? null : ParseVersion(versionText);
        await WriteRegistryAsync(() => registry.UnpinAsync(name, version, actor, cancellationToken), "release the pin", cancellationToken);
        logger.LogInformation("Model {Model}: pin of {Versions} released by {Actor}", name,
            version?.ToString(CultureInfo.InvariantCulture) ?? "every version", actor ?? "a platform service");
        await ReconcileHereAsync(name, cancellationToken);
    }

    private static int ParseVersion(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1
            ? number
            : throw new InferenceProtocolException($"'version' must be a version number (an integer from 1), not '{text}'.", StatusCodes.Status400BadRequest);

    private static ModelVersion Find(ModelDetails info, int number) => info.FindVersion(number) switch
    {
        null => throw new InferenceProtocolException($"Unknown version '{number}' of model '{info.Name}'.", StatusCodes.Status404NotFound),
        { Archived: true } => throw new InferenceProtocolException($"Version {number} of model '{info.Name}' is archived.", StatusCodes.Status409Conflict),
        var found => found,
    };

    private static ModelVersion DefaultVersion(ModelDetails info) =>
        info.FindAlias(AliasNames.Production) is { } production
            ? Find(info, production.Version)
            : info.Versions.LastOrDefault(v => !v.Archived)
                ?? throw new InferenceProtocolException($"Model '{info.Name}' has no version to load.", StatusCodes.Status404NotFound);

    private async Task<ServingSettings> ReadSettingsAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await registry.GetServingSettingsAsync(name, cancellationToken);
        }
        catch (Exception ex) when (ModelReconciler.IsRegistryFailure(ex, cancellationToken))
        {
            throw new InferenceProtocolException($"Model '{name}' cannot be looked up in the registry right now; retry.", StatusCodes.Status503ServiceUnavailable);
        }
    }

    private async Task WriteRegistryAsync(Func<Task> write, string what, CancellationToken cancellationToken)
    {
        try
        {
            await write();
        }
        catch (Exception ex) when (ModelReconciler.IsRegistryFailure(ex, cancellationToken))
        {
            logger.LogWarning(ex, "The registry could not {What}", what);
            throw new InferenceProtocolException($"The registry could not {what}: {ex.Message}", StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>Applies the change here before answering; the other replicas follow the registry's event (or their periodic reconciliation).</summary>
    private async Task ReconcileHereAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await reconciler.ReconcileModelAsync(name, cancellationToken);
        }
        catch (Exception ex) when (ModelReconciler.IsRegistryFailure(ex, cancellationToken))
        {
            logger.LogWarning(ex, "Reconciling {Model} after a repository change failed; the periodic reconciliation applies it", name);
        }
    }
}
