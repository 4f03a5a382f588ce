namespace MlPlatform.UnitTests.Registry;

internal static class RepositoryFiles
{
    /// <summary>A path under the repository root (the folder holding MlPlatform.sln, above the test binaries).</summary>
    public static string Path(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "MlPlatform.sln")))
        {
            dir = dir.Parent;
        }
        return System.IO.Path.Combine([dir?.FullName ?? throw new InvalidOperationException("Repository root not found."), .. parts]);
    }
}
