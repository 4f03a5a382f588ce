using System.Text.Json;
using System.Text.Json.Serialization;

namespace MlPlatform.Cli.Gateway;

/// <summary>What <c>mlp login</c> stores: the gateway and the key, in the user's config folder, readable by the user only.</summary>
public sealed record CliConfig(
    [property: JsonPropertyName("url")] string? Url,
    [property: JsonPropertyName("apiKey")] string? ApiKey)
{
    /// <summary><c>$XDG_CONFIG_HOME/mlp/config.json</c> (<c>~/.config/mlp/config.json</c>) on Linux, <c>%APPDATA%\mlp\config.json</c> on Windows.</summary>
    public static string FilePath => Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.DoNotVerify), "mlp", "config.json");

    public static CliConfig? Load()
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<CliConfig>(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.Usage, $"The config file {path} is not valid JSON ({ex.Message}); run 'mlp login' again.");
        }
    }

    public void Save()
    {
        var path = FilePath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written to a temp file created with mode 600 and renamed, so the key is never readable by others, not even briefly.
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temp, options))
        {
            JsonSerializer.Serialize(stream, this, new JsonSerializerOptions { WriteIndented = true });
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(temp, path, overwrite: true);
    }
}
