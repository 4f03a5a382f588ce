using System.Text.Json;

namespace MlPlatform.BatchScorer.Profiles;

/// <summary>
/// Reads the body of <c>POST /v1/models/{name}/versions/{v}/reference</c> (<c>{"jobId": "..."}</c>) by hand: the framework's binding
/// throws on a body that is not that object (garbage, a number for the id, an array, truncated JSON), which the exception handler turns
/// into a bare 500; here every such body gets a sentence saying what is wrong.
/// </summary>
public static class ReferenceRequestReader
{
    private const string Expected = "send {\"jobId\": \"...\"}, the id of a succeeded batch job";

    /// <summary>The job id of <paramref name="body"/>, or why it has none.</summary>
    public static (string? JobId, string? Error) Read(ReadOnlyMemory<byte> body)
    {
        body = RequestBodies.WithoutByteOrderMark(body);
        if (body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return (null, $"The body is empty: {Expected}.");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            var message = ex.Message.IndexOf(". ", StringComparison.Ordinal) is var end and > 0 ? ex.Message[..end] : ex.Message.TrimEnd('.');
            return (null, $"The body is not valid JSON ({message}): {Expected}.");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, $"The body must be a JSON object, not {Kind(root)}: {Expected}.");
            }
            // Member names match case-insensitively, as the framework's binding did.
            var member = root.EnumerateObject().FirstOrDefault(p => p.Name.Equals("jobId", StringComparison.OrdinalIgnoreCase));
            return member.Value.ValueKind switch
            {
                JsonValueKind.Undefined or JsonValueKind.Null => (null, "'jobId' is required: the id of a succeeded batch job."),
                JsonValueKind.String when string.IsNullOrWhiteSpace(member.Value.GetString()) => (null, "'jobId' is required: the id of a succeeded batch job."),
                JsonValueKind.String => (member.Value.GetString(), null),
                _ => (null, $"'jobId' must be a string (the id of a succeeded batch job), not {Kind(member.Value)}."),
            };
        }
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => element.ValueKind.ToString().ToLowerInvariant(),
    };
}
