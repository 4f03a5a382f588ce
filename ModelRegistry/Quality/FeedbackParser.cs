using System.Globalization;
using System.Text.Json;
using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>
/// Reads a feedback body: a JSON array of <c>{"id", "label", "at"?}</c> objects, or the same objects one per line (JSONL). Every item is
/// checked before anything is stored, so a body with one bad item stores nothing; the error names the line (and the item of an array).
/// </summary>
public static class FeedbackParser
{
    public const int MaxIdLength = 256;
    public const int MaxLabelElements = 10_000;

    /// <summary>The items of <paramref name="body"/>, or the first error; labels are checked against <paramref name="settings"/> when set.</summary>
    public static (List<FeedbackItem>? Items, string? Error) Parse(ReadOnlyMemory<byte> body, QualitySettings? settings, int maxItems)
    {
        body = RequestBodies.WithoutByteOrderMark(body);
        var span = body.Span.TrimStart(" \t\r\n"u8);
        if (span.IsEmpty)
        {
            return (null, "The body is empty: send a JSON array of {\"id\", \"label\"} objects, or one such object per line.");
        }
        return span[0] == (byte)'[' ? ParseArray(body, settings, maxItems) : ParseLines(body, settings, maxItems);
    }

    private static (List<FeedbackItem>?, string?) ParseArray(ReadOnlyMemory<byte> body, QualitySettings? settings, int maxItems)
    {
        var items = new List<FeedbackItem>();
        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            reader.Read();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var line = LineOf(body.Span, reader.TokenStartIndex);
                var where = $"line {line} (item {items.Count + 1})";
                using var item = JsonDocument.ParseValue(ref reader);
                if (items.Count == maxItems)
                {
                    return (null, $"{where}: a body holds at most {maxItems} labels.");
                }
                var (parsed, error) = ParseItem(item.RootElement, settings);
                if (error is not null)
                {
                    return (null, $"{where}: {error}");
                }
                items.Add(parsed!);
            }
            if (reader.TokenType != JsonTokenType.EndArray || reader.Read())
            {
                return (null, $"line {LineOf(body.Span, (int)reader.BytesConsumed)}: the array must end the body.");
            }
        }
        catch (JsonException ex)
        {
            return (null, $"line {(ex.LineNumber ?? 0) + 1}: malformed JSON ({FirstSentence(ex.Message)}); nothing was stored.");
        }
        return (items, null);
    }

    private static (List<FeedbackItem>?, string?) ParseLines(ReadOnlyMemory<byte> body, QualitySettings? settings, int maxItems)
    {
        var items = new List<FeedbackItem>();
        var span = body.Span;
        var line = 0;
        var start = 0;
        while (start <= span.Length)
        {
            line++;
            var end = span[start..].IndexOf((byte)'\n');
            var text = end < 0 ? span[start..] : span.Slice(start, end);
            start = end < 0 ? span.Length + 1 : start + end + 1;
            text = text.Trim(" \t\r"u8);
            if (text.IsEmpty)
            {
                continue;
            }
            if (items.Count == maxItems)
            {
                return (null, $"line {line}: a body holds at most {maxItems} labels.");
            }
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(text.ToArray());
            }
            catch (JsonException ex)
            {
                return (null, $"line {line}: malformed JSON ({FirstSentence(ex.Message)}); nothing was stored.");
            }
            using (document)
            {
                var (parsed, error) = ParseItem(document.RootElement, settings);
                if (error is not null)
                {
                    return (null, $"line {line}: {error}");
                }
                items.Add(parsed!);
            }
        }
        return (items, null);
    }

    private static (FeedbackItem?, string?) ParseItem(JsonElement item, QualitySettings? settings)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return (null, "each item is an object {\"id\": ..., \"label\": ...}.");
        }
        if (!item.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 and <= MaxIdLength } idText)
        {
            return (null, $"'id' must be the request id, a string of 1 to {MaxIdLength} characters.");
        }
        if (!item.TryGetProperty("label", out var label))
        {
            return (null, "'label' is missing.");
        }
        if (CheckLabel(label, settings) is { } labelError)
        {
            return (null, labelError);
        }
        DateTimeOffset? at = null;
        if (item.TryGetProperty("at", out var atValue) && atValue.ValueKind != JsonValueKind.Null)
        {
            if (atValue.ValueKind != JsonValueKind.String || !DateTimeOffset.TryParse(atValue.GetString(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsedAt))
            {
                return (null, "'at' must be an ISO 8601 time.");
            }
            at = parsedAt;
        }
        return (new FeedbackItem(idText, label.Clone(), at), null);
    }

    /// <summary>A number, a string, or an array of them (one per row); numbers only for regression.</summary>
    private static string? CheckLabel(JsonElement label, QualitySettings? settings)
    {
        var regression = settings?.Task == QualitySettings.Regression;
        bool Fits(JsonElement value) => value.ValueKind == JsonValueKind.Number || (!regression && value.ValueKind == JsonValueKind.String);
        var expected = regression ? "a number or an array of numbers (the model's quality task is regression)" : "a number, a string or an array of them";
        // A number beyond a double's range parses to infinity and would poison every figure computed with it.
        IEnumerable<JsonElement> values = label.ValueKind == JsonValueKind.Array ? label.EnumerateArray() : [label];
        foreach (var value in values)
        {
            if (value.ValueKind == JsonValueKind.Number && (!value.TryGetDouble(out var number) || !double.IsFinite(number)))
            {
                return $"'label' {ClientText.Shorten(value.GetRawText(), 32)} is not a finite number (a double's range is ±1.8e308).";
            }
        }
        if (label.ValueKind == JsonValueKind.Array)
        {
            var count = label.GetArrayLength();
            if (count == 0 || count > MaxLabelElements || !label.EnumerateArray().All(Fits))
            {
                return $"'label' must be {expected}; an array holds 1 to {MaxLabelElements} of them.";
            }
            return null;
        }
        return Fits(label) ? null : $"'label' must be {expected}, not {label.ValueKind.ToString().ToLowerInvariant()}.";
    }

    private static int LineOf(ReadOnlySpan<byte> body, long index) => body[..(int)Math.Min(index, body.Length)].Count((byte)'\n') + 1;

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message.TrimEnd('.') : message[..end];
    }
}
