using System.Globalization;
using System.Text.Json;

namespace MlPlatform.ModelRegistry.Storage.Tables;

/// <summary>How the registry's tables store values: times as round-trip ISO 8601 text, records as web-style JSON.</summary>
internal static class SqlValues
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Format(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTime(string value) => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture);

    public static object OrNull(object? value) => value ?? DBNull.Value;
}
