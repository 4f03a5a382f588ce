using System.Text.Json;

namespace MlPlatform.ModelRegistry.Naming;

/// <summary>Tags are short key/value labels on a version; keys are case-sensitive.</summary>
public static class TagRules
{
    public const int MaxTags = 32;
    public const int MaxKeyLength = 64;
    public const int MaxValueLength = 256;
    public const int MaxDescriptionLength = 4096;

    public const string Rule = "Tags are a JSON object of strings or 'k=v,k=v': at most 32, keys 1-64 characters without '=' or ',', values at most 256 characters.";

    /// <summary>Parses tags given as a JSON object of strings or as <c>k=v,k=v</c>; an empty or blank text is no tags.</summary>
    public static bool TryParse(string? text, out Dictionary<string, string> tags, out string? error)
    {
        tags = new Dictionary<string, string>(StringComparer.Ordinal);
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }
        text = text.Trim();
        if (text.StartsWith('{'))
        {
            try
            {
                tags = JsonSerializer.Deserialize<Dictionary<string, string>>(text) ?? tags;
            }
            catch (JsonException)
            {
                error = "Tags are not a JSON object of strings. " + Rule;
                return false;
            }
        }
        else
        {
            foreach (var pair in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0)
                {
                    error = $"Tag '{pair}' is not of the form k=v. {Rule}";
                    return false;
                }
                if (!tags.TryAdd(pair[..eq].Trim(), pair[(eq + 1)..].Trim()))
                {
                    error = $"Tag '{pair[..eq].Trim()}' is given twice.";
                    return false;
                }
            }
        }
        return Validate(tags, out error);
    }

    /// <summary>Checks count and lengths of already-parsed tags.</summary>
    public static bool Validate(IReadOnlyDictionary<string, string> tags, out string? error)
    {
        error = null;
        if (tags.Count > MaxTags)
        {
            error = $"At most {MaxTags} tags are allowed. {Rule}";
        }
        else if (tags.Any(t => t.Key.Length is 0 or > MaxKeyLength || t.Key.Contains('=') || t.Key.Contains(',')
                               || t.Value is null || t.Value.Length > MaxValueLength))
        {
            error = $"A tag key or value is out of bounds. {Rule}";
        }
        return error is null;
    }

    /// <summary>Parses a list filter <c>k=v</c>.</summary>
    public static bool TryParseFilter(string text, out KeyValuePair<string, string> tag)
    {
        var eq = text.IndexOf('=');
        tag = eq > 0 ? new(text[..eq], text[(eq + 1)..]) : default;
        return eq > 0;
    }
}
