using System.Text.RegularExpressions;

namespace MlPlatform.Contracts;

/// <summary>
/// The rules for model and alias names, sha256 hashes and version numbers taken from URLs: the registry enforces them on writes, and
/// the scorers refuse a name no model can have before asking the registry about it.
/// </summary>
public static partial class NameRules
{
    public const string NamePattern = "^[a-z0-9][a-z0-9._-]{0,63}$";

    public const string NameRule =
        "Names must match " + NamePattern + " (1-64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit) and must not contain '..'.";

    [GeneratedRegex(NamePattern, RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    [GeneratedRegex("^[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Regex();

    /// <summary>True when <paramref name="name"/> is a valid model or alias name.</summary>
    /// <remarks>'..' is refused even inside a name so that no name can ever read as a path segment, wherever it ends up.</remarks>
    public static bool IsValidName(string? name) =>
        name is not null && NameRegex().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);

    /// <summary>
    /// Model names the platform keeps for itself: <c>stats</c>, so that <c>/v2/models/stats</c> (Triton's statistics extension)
    /// can never be read as the metadata of a model.
    /// </summary>
    public static IReadOnlyList<string> ReservedModelNames { get; } = ["stats"];

    /// <summary>True when <paramref name="name"/> is reserved and no model may take it.</summary>
    public static bool IsReservedModelName(string? name) => name is not null && ReservedModelNames.Contains(name, StringComparer.Ordinal);

    /// <summary>True when <paramref name="value"/> is 64 lowercase hex digits.</summary>
    public static bool IsValidSha256(string? value) => value is not null && Sha256Regex().IsMatch(value);

    /// <summary>Parses a version number from a URL segment: a positive integer without sign or leading zeros.</summary>
    public static bool TryParseVersion(string? value, out int version)
    {
        version = 0;
        if (string.IsNullOrEmpty(value) || value.Length > 9 || value[0] == '0' || !value.All(char.IsAsciiDigit))
        {
            return false;
        }
        version = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        return true;
    }
}
