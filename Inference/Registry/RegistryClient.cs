using System.Net;
using System.Net.Http.Json;

namespace MlPlatform.Inference.Registry;

/// <summary>Typed client for the ModelRegistry's HTTP API (docs/registry-api.md), used by both scorers (base address <c>http://modelregistry</c>, resolved by service discovery).</summary>
/// <remarks>Safe to hold as a singleton: every call takes a fresh client from <see cref="IHttpClientFactory"/>, so handler rotation, resilience and the platform's internal credential apply.</remarks>
public sealed class RegistryClient(IHttpClientFactory httpClientFactory)
{
    /// <summary>The name of the <see cref="HttpClient"/> registered for the registry.</summary>
    public const string HttpClientName = "modelregistry";

    private HttpClient Http => httpClientFactory.CreateClient(HttpClientName);

    /// <summary>Lists one page of models.</summary>
    /// <exception cref="HttpRequestException">The registry is unreachable or answered with an error.</exception>
    public async Task<PaginatedItems<ModelSummary>> ListModelsAsync(int pageIndex, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pageIndex);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var page = await Http.GetFromJsonAsync<PaginatedItems<ModelSummary>>(
            $"/v1/models?pageIndex={pageIndex}&pageSize={pageSize}", cancellationToken);
        return page ?? throw new HttpRequestException("The registry answered an empty body.");
    }

    /// <summary>Lists every model, page by page.</summary>
    /// <exception cref="HttpRequestException">The registry is unreachable or answered with an error.</exception>
    public async IAsyncEnumerable<ModelSummary> ListAllModelsAsync(
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        const int pageSize = 200;
        for (var pageIndex = 0; ; pageIndex++)
        {
            var page = await ListModelsAsync(pageIndex, pageSize, cancellationToken);
            foreach (var item in page.Items)
            {
                yield return item;
            }
            if (page.Items.Count < pageSize || (long)(pageIndex + 1) * pageSize >= page.Count)
            {
                yield break;
            }
        }
    }

    /// <summary>The model with its versions and aliases, or null when the registry does not know it.</summary>
    /// <exception cref="HttpRequestException">The registry is unreachable or answered with another error.</exception>
    public Task<ModelDetails?> GetModelAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return GetOrNullAsync<ModelDetails>($"/v1/models/{Uri.EscapeDataString(name)}", cancellationToken);
    }

    /// <summary>One version of a model, or null when the registry does not know it.</summary>
    /// <exception cref="HttpRequestException">The registry is unreachable or answered with another error.</exception>
    public Task<ModelVersion?> GetVersionAsync(string name, int version, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        return GetOrNullAsync<ModelVersion>($"/v1/models/{Uri.EscapeDataString(name)}/versions/{version}", cancellationToken);
    }

    /// <summary>The model's serving settings; <see cref="ServingSettings.Default"/> when the registry has none for it.</summary>
    /// <exception cref="HttpRequestException">The registry is unreachable or answered with another error.</exception>
    public async Task<ServingSettings> GetServingSettingsAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var settings = await GetOrNullAsync<ServingSettings>($"/v1/models/{Uri.EscapeDataString(name)}/serving", cancellationToken);
        return settings ?? ServingSettings.Default;
    }

    /// <summary>The versions pinned on every online scorer; empty when the registry does not know the model.</summary>
    /// <exception cref="HttpRequestException">The registry is unreachable or answered with another error.</exception>
    public async Task<IReadOnlyList<VersionPin>> GetPinsAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return await GetOrNullAsync<List<VersionPin>>($"/v1/models/{Uri.EscapeDataString(name)}/pins", cancellationToken) ?? [];
    }

    /// <summary>Pins <paramref name="version"/> on every online scorer, recorded as asked by <paramref name="actor"/> (the key id).</summary>
    /// <exception cref="HttpRequestException">The registry is unreachable or refused (unknown or archived version).</exception>
    public Task PinAsync(string name, int version, string? actor, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        return SendAsync(HttpMethod.Put, $"/v1/models/{Uri.EscapeDataString(name)}/pins/{version}", actor, cancellationToken);
    }

    /// <summary>Releases the pin of <paramref name="version"/>, or every pin of the model when null.</summary>
    /// <exception cref="HttpRequestException">The registry is unreachable or answered with an error.</exception>
    public Task UnpinAsync(string name, int? version, string? actor, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var path = $"/v1/models/{Uri.EscapeDataString(name)}/pins" + (version is { } v ? $"/{v}" : "");
        return SendAsync(HttpMethod.Delete, path, actor, cancellationToken);
    }

    /// <summary>Stores <paramref name="profile"/> as the drift reference of <paramref name="version"/> (the batch scorer's job profiles).</summary>
    /// <exception cref="HttpRequestException">The registry is unreachable or refused (unknown version, invalid profile).</exception>
    public Task PutReferenceAsync(string name, int version, InputProfile profile, string? actor, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        return SendAsync(HttpMethod.Put, $"/v1/models/{Uri.EscapeDataString(name)}/versions/{version}/reference/profile", actor, cancellationToken,
            JsonContent.Create(profile));
    }

    private async Task SendAsync(HttpMethod method, string uri, string? actor, CancellationToken cancellationToken, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, uri) { Content = content };
        if (actor is not null)
        {
            // The registry records who asked; it trusts the header only with the internal credential the client attaches.
            request.Headers.TryAddWithoutValidation(PlatformHeaders.Actor, actor);
        }
        using var response = await Http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Streams the artifact with hash <paramref name="sha256"/> into <paramref name="destination"/>; the caller verifies the hash.</summary>
    /// <exception cref="HttpRequestException">The registry is unreachable, does not have the artifact, or answered with an error.</exception>
    public async Task DownloadArtifactAsync(string sha256, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sha256);
        ArgumentNullException.ThrowIfNull(destination);
        using var response = await Http.GetAsync($"/v1/artifacts/{Uri.EscapeDataString(sha256)}",
            HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await body.CopyToAsync(destination, cancellationToken);
    }

    private async Task<T?> GetOrNullAsync<T>(string uri, CancellationToken cancellationToken) where T : class
    {
        using var response = await Http.GetAsync(uri, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<T>(cancellationToken)
            ?? throw new HttpRequestException($"The registry answered an empty body for {uri}.");
    }
}
