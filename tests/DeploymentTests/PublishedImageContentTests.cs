using System.Text;
using System.Text.RegularExpressions;

namespace MlPlatform.DeploymentTests;

/// <summary>
/// One Release publish (the OnlineScorer, which serves through ONNX Runtime), checked for what the image needs: the linux-x64
/// native library present, and no glibc or libstdc++ symbol version newer than the base image carries.
/// It publishes without restoring: a restore for a runtime identifier would rewrite obj/project.assets.json under the feet of
/// the integration tests, which run the same projects in parallel. CD publishes per RID (--os linux --arch x64), which
/// flattens the same runtimes/linux-x64/native files into the app folder.
/// </summary>
public sealed class PublishedOnlineScorerFixture : IAsyncLifetime
{
    public string OutputDir { get; } = Path.Combine(Path.GetTempPath(), "mlplatform-publish-tests", Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync() =>
        await Repository.RunAsync("dotnet",
        [
            "publish", Repository.PathOf("OnlineScorer", "OnlineScorer.csproj"), "-nologo", "-v:q", "-warnaserror",
            "-c", "Release", "--no-restore", "-o", OutputDir,
        ]);

    public Task DisposeAsync()
    {
        Directory.Delete(OutputDir, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed partial class PublishedImageContentTests(PublishedOnlineScorerFixture publish) : IClassFixture<PublishedOnlineScorerFixture>
{
    // Ubuntu 24.04 "noble", the base of mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled: glibc 2.39, libstdc++ of GCC 14.
    private static readonly Version BaseGlibc = new(2, 39);
    private static readonly Version BaseGlibcxx = new(3, 4, 33);

    private string OnnxRuntime => Path.Combine(publish.OutputDir, "runtimes", "linux-x64", "native", "libonnxruntime.so");

    [Fact]
    public void PublishedScorerCarriesTheOnnxRuntimeNativeLibraryForLinuxX64()
    {
        Assert.True(File.Exists(OnnxRuntime), "libonnxruntime.so is missing from the publish output.");
        using var file = File.OpenRead(OnnxRuntime);
        var header = new byte[20];
        file.ReadExactly(header);
        Assert.Equal("\u007FELF"u8.ToArray(), header[..4]);
        Assert.Equal(2, header[4]); // 64-bit
        Assert.Equal(62, BitConverter.ToUInt16(header, 18)); // EM_X86_64
        // The host finds it through the dependency manifest.
        Assert.Contains("\"runtimes/linux-x64/native/libonnxruntime.so\"", File.ReadAllText(Path.Combine(publish.OutputDir, "OnlineScorer.deps.json")));
    }

    [Fact]
    public void OnnxRuntimeNeedsNoNewerGlibcOrLibstdcxxThanTheBaseImageHas()
    {
        // Symbol version requirements are stored as plain strings (GLIBC_2.28, GLIBCXX_3.4.22) in the dynamic string table.
        var strings = Encoding.ASCII.GetString(File.ReadAllBytes(OnnxRuntime));
        var glibc = GlibcVersion().Matches(strings).Select(m => Version.Parse(m.Groups[1].Value)).ToList();
        var glibcxx = GlibcxxVersion().Matches(strings).Select(m => Version.Parse(m.Groups[1].Value)).ToList();

        Assert.NotEmpty(glibc);
        Assert.NotEmpty(glibcxx);
        Assert.True(glibc.Max() <= BaseGlibc, $"libonnxruntime.so needs GLIBC_{glibc.Max()}, the base image has {BaseGlibc}.");
        Assert.True(glibcxx.Max() <= BaseGlibcxx, $"libonnxruntime.so needs GLIBCXX_{glibcxx.Max()}, the base image has {BaseGlibcxx}.");
    }

    [Fact]
    public void PublishedScorerRunsOnTheSharedAspNetCoreFramework()
    {
        var runtimeConfig = File.ReadAllText(Path.Combine(publish.OutputDir, "OnlineScorer.runtimeconfig.json"));

        Assert.Contains("\"Microsoft.AspNetCore.App\"", runtimeConfig);
        Assert.Contains("\"System.Globalization.Invariant\": true", runtimeConfig);
    }

    [GeneratedRegex(@"GLIBC_(\d+\.\d+(?:\.\d+)?)\b")]
    private static partial Regex GlibcVersion();

    [GeneratedRegex(@"GLIBCXX_(\d+\.\d+\.\d+)\b")]
    private static partial Regex GlibcxxVersion();
}
