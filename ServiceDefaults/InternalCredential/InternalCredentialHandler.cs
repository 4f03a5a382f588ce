using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Attaches the internal credential to outgoing calls to other platform services (the scorers' registry client, for instance).
/// Only hosts declared under <c>services:</c> (Aspire's service references) receive it, so it never leaks to a third party.
/// </summary>
internal sealed class InternalCredentialHandler(IOptions<InternalCredentialOptions> options, IConfiguration configuration) : DelegatingHandler
{
    private readonly string? _key = options.Value.Key;
    private readonly HashSet<string> _platformServices = configuration.GetSection("services").GetChildren()
        .Select(s => s.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(_key) && request.RequestUri is { } uri && _platformServices.Contains(uri.Host))
        {
            request.Headers.Remove(InternalCredentialOptions.HeaderName);
            request.Headers.TryAddWithoutValidation(InternalCredentialOptions.HeaderName, _key);
        }
        return base.SendAsync(request, cancellationToken);
    }
}
