using System.Text.RegularExpressions;

namespace MlPlatform.ModelRegistry.Inspection;

/// <summary>Keeps the registry's file system out of what a client reads: refusals quote ONNX Runtime, whose messages name paths.</summary>
public static partial class PathRedaction
{
    /// <summary>Replaces the model's path with <c>&lt;model&gt;</c> and any other absolute path with <c>&lt;path&gt;</c>.</summary>
    public static string Redact(string text, string modelPath)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Replace(modelPath, "<model>", StringComparison.Ordinal);
        return AbsolutePath().Replace(text, "<path>");
    }

    // A slash-rooted path of at least two segments (so "a/b" ratios or "1/2" survive); Windows drive paths too.
    [GeneratedRegex(@"(?<![\w.])(?:[A-Za-z]:)?[/\\](?:[^\s/\\'""`,;:()\[\]]+[/\\])+[^\s/\\'""`,;:()\[\]]*")]
    private static partial Regex AbsolutePath();
}
