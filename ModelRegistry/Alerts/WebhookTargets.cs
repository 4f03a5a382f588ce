using System.Net;
using System.Net.Sockets;

namespace MlPlatform.ModelRegistry.Alerts;

/// <summary>
/// Which webhook targets the registry may call. Webhook URLs come from configuration, but the registry sits inside the platform's network:
/// a URL naming a platform service, the cloud metadata address or any private address would turn alerts into requests into that network.
/// Such targets are refused unless <see cref="AlertOptions.AllowPrivateWebhookTargets"/> is set.
/// </summary>
public static class WebhookTargets
{
    /// <summary>The platform's own services (their AppHost resource names, which service discovery and Kubernetes DNS resolve).</summary>
    public static readonly IReadOnlyList<string> PlatformServices = ["modelregistry", "onlinescorer", "batchscorer", "gateway", "redis", "redis-cache"];

    private static readonly string[] InternalSuffixes = [".localhost", ".local", ".internal", ".svc", ".cluster.local", ".svc.cluster.local"];

    /// <summary>Why <paramref name="url"/> may not be called, or null when it may (checks the name and literal addresses, not DNS).</summary>
    public static string? RefuseUrl(Uri url, IEnumerable<string> serviceNames)
    {
        ArgumentNullException.ThrowIfNull(url);
        var host = url.IdnHost.TrimEnd('.').ToLowerInvariant();
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return RefuseAddress(literal);
        }
        // Longer in-cluster forms (onlinescorer.default.svc.cluster.local) are caught by their suffix, and any name by its address at send time.
        if (serviceNames.Any(s => string.Equals(s, host, StringComparison.OrdinalIgnoreCase)))
        {
            return $"'{host}' names one of the platform's own services";
        }
        if (host == "localhost" || InternalSuffixes.Any(suffix => host.EndsWith(suffix, StringComparison.Ordinal)))
        {
            return $"'{host}' is a local or cluster-internal name";
        }
        if (!host.Contains('.', StringComparison.Ordinal))
        {
            return $"'{host}' is an unqualified name, which resolves inside the platform's network";
        }
        return null;
    }

    /// <summary>Why <paramref name="address"/> may not be called (loopback, link-local, private, ...), or null for a public address.</summary>
    public static string? RefuseAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address))
        {
            return $"{address} is a loopback address";
        }
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return $"{address} is not a unicast address";
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return (b[0], b[1]) switch
            {
                (169, 254) => $"{address} is link-local (the cloud metadata service lives at 169.254.169.254)",
                (10, _) or (172, >= 16 and <= 31) or (192, 168) => $"{address} is a private address",
                (100, >= 64 and <= 127) => $"{address} is a carrier-grade NAT (shared) address",
                (0, _) => $"{address} is a 'this network' address",
                (>= 224, _) => $"{address} is a multicast or reserved address",
                _ => null,
            };
        }
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal)
        {
            return $"{address} is link-local";
        }
        if (address.IsIPv6UniqueLocal)
        {
            return $"{address} is a private (unique local) address";
        }
        if (address.IsIPv6Multicast)
        {
            return $"{address} is a multicast address";
        }
        return null;
    }

    /// <summary>The URL as logs show it: scheme, host and port; the path and query, which often carry tokens, are left out.</summary>
    public static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/…" : "(invalid URL)";
}
