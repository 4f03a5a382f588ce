namespace MlPlatform.ModelRegistry.Model;

/// <summary>Text a client sent, quoted back in an error message: cut to a length, so a huge value cannot make a huge answer.</summary>
public static class ClientText
{
    /// <summary><paramref name="text"/> as it is when it has at most <paramref name="max"/> characters, else its first <paramref name="max"/> and "…".</summary>
    public static string Shorten(string text, int max)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length <= max ? text : text[..max] + "…";
    }
}
