using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace MlPlatform.Inference.Registry;

/// <summary>Typed client for the ModelRegistry's HTTP API, used by both scorers (base address <c>http://modelregistry</c>, resolved by service discovery).</summary>
public sealed class RegistryClient(HttpClient http)
{
    /// <summary>Lists one page of model names.</summary>
    /// <exception cref="HttpRequestException">The registry is unreachable or answered with an error.</exception>
    public async Task<RegistryModelPage> ListModelsAsync(int pageIndex, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pageIndex);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var page = await http.GetFromJsonAsync<RegistryModelPage>(
            $"/v1/models?pageIndex={pageIndex}&pageSize={pageSize}", cancellationToken);
        return page ?? throw new HttpRequestException("The registry answered an empty body.");
    }
}

public sealed record RegistryModelPage(
    [property: JsonPropertyName("pageIndex")] int PageIndex,
    [property: JsonPropertyName("pageSize")] int PageSize,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("items")] IReadOnlyList<RegistryModelSummary> Items);

public sealed record RegistryModelSummary(
    [property: JsonPropertyName("name")] string Name);
