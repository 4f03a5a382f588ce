using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// Least data rates on routes that carry large bodies, which routes select with the metadata entry <c>MinDataRate</c>: <c>request</c>
/// (uploads and inference: a body trickled slower than <see cref="MinRequestBytesPerSecond"/> after <see cref="RequestGracePeriod"/> is cut
/// and the request ends) or <c>response</c> (downloads: a reader slower than <see cref="MinResponseBytesPerSecond"/> is disconnected).
/// Kestrel's defaults (240 B/s) let a 1 KB/s trickle hold a slot for an hour.
/// </summary>
public sealed class DataRateOptions
{
    public const string SectionName = "DataRates";

    /// <summary>The route metadata key selecting a rate.</summary>
    public const string MetadataKey = "MinDataRate";

    public const string Request = "request";
    public const string Response = "response";

    /// <summary>Least request body rate, bytes per second, on <c>request</c> routes. Default 10240 (10 KB/s).</summary>
    [Range(1, 1L << 30)]
    public double MinRequestBytesPerSecond { get; set; } = 10 * 1024;

    /// <summary>How long a request body may be slower before the rate applies. Default 5 s (Kestrel needs more than 1 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01.500", "01:00:00")]
    public TimeSpan RequestGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Least response rate, bytes per second, on <c>response</c> routes. Default 10240 (10 KB/s).</summary>
    [Range(1, 1L << 30)]
    public double MinResponseBytesPerSecond { get; set; } = 10 * 1024;

    /// <summary>How long a reader may be slower before the rate applies. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01.500", "01:00:00")]
    public TimeSpan ResponseGracePeriod { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Fails start-up when a route names a data rate that is neither <c>request</c> nor <c>response</c>.</summary>
internal sealed class DataRateRoutesValidator(IConfiguration configuration) : IValidateOptions<DataRateOptions>
{
    public ValidateOptionsResult Validate(string? name, DataRateOptions options)
    {
        var unknown = configuration.GetSection("ReverseProxy:Routes").GetChildren()
            .Select(route => (Route: route.Key, Rate: route[$"Metadata:{DataRateOptions.MetadataKey}"]))
            .Where(r => r.Rate is not null && !r.Rate.Equals(DataRateOptions.Request, StringComparison.OrdinalIgnoreCase)
                && !r.Rate.Equals(DataRateOptions.Response, StringComparison.OrdinalIgnoreCase))
            .Select(r => $"Route '{r.Route}' names the data rate '{r.Rate}', which is not one of {DataRateOptions.Request}, {DataRateOptions.Response}.")
            .ToList();
        return unknown.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(unknown);
    }
}
