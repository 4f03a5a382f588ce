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
