using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace MlPlatform.Inference.Fleet;

/// <summary>Durations as the platform's APIs write them: a positive integer and a unit, <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>2h</c>.</summary>
public static class DurationText
{
    /// <summary>Parses <paramref name="text"/>; false for anything else (no sign, no fraction, no spaces, no zero).</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }
        var span = text.AsSpan();
        var digits = 0;
        while (digits < span.Length && char.IsAsciiDigit(span[digits]))
        {
            digits++;
        }
        if (digits == 0 || digits > 9 || !long.TryParse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value == 0)
        {
            return false;
        }
        TimeSpan? parsed = span[digits..] switch
        {
            "ms" => TimeSpan.FromMilliseconds(value),
            "s" => TimeSpan.FromSeconds(value),
            "m" => TimeSpan.FromMinutes(value),
            "h" => TimeSpan.FromHours(value),
            _ => null,
        };
        if (parsed is null)
        {
            return false;
        }
        duration = parsed.Value;
        return true;
    }

    /// <summary>Writes <paramref name="duration"/> in the largest unit that divides it exactly.</summary>
    public static string Format(TimeSpan duration)
    {
        var ms = (long)duration.TotalMilliseconds;
        return ms switch
        {
            _ when ms % 3_600_000 == 0 && ms > 0 => string.Create(CultureInfo.InvariantCulture, $"{ms / 3_600_000}h"),
            _ when ms % 60_000 == 0 && ms > 0 => string.Create(CultureInfo.InvariantCulture, $"{ms / 60_000}m"),
            _ when ms % 1000 == 0 && ms > 0 => string.Create(CultureInfo.InvariantCulture, $"{ms / 1000}s"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{ms}ms"),
        };
    }
}
