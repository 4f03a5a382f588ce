using System.Diagnostics;

namespace MlPlatform.IntegrationTests.Registry;

/// <summary>
/// The registry's start-up refusal of webhook targets inside the platform's network. The registry's own build is started directly,
/// with the settings the AppHost would give it: the check runs before anything else, so no platform is needed.
/// </summary>
public sealed class RegistryWebhookStartupTests
{
    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/iam?token=abc", "Alerts:Webhooks:0:Url (http://169.254.169.254/…) is refused: 169.254.169.254 is link-local")]
    [InlineData("http://onlinescorer/v2/models/fraud/infer", "Alerts:Webhooks:0:Url (http://onlinescorer/…) is refused: 'onlinescorer' names one of the platform's own services")]
    public async Task AWebhookInsideThePlatformsNetworkStopsTheRegistryAtStartWithTheReason(string url, string reason)
    {
        var (exitCode, output) = await RunRegistryAsync(new() { ["Alerts__Webhooks__0__Url"] = url });

        Assert.NotEqual(0, exitCode);
        Assert.Contains(reason, output);
        Assert.Contains("set Alerts:AllowPrivateWebhookTargets=true to allow it", output);
        Assert.DoesNotContain("token=abc", output);
    }

    private static async Task<(int ExitCode, string Output)> RunRegistryAsync(Dictionary<string, string> settings)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "mlplatform-tests", $"startup-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDir);
        try
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(RegistryAssembly());
            info.Environment["Storage__DataDir"] = dataDir;
            info.Environment["InternalCredential__Key"] = PlatformFixture.InternalApiKey;
            // Never reached: the options are validated first.
            info.Environment["ConnectionStrings__redis"] = "127.0.0.1:1,abortConnect=false";
            info.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
            info.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "";
            foreach (var (key, value) in settings)
            {
                info.Environment[key] = value;
            }
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            try
            {
                await process.WaitForExitAsync().WaitAsync(PlatformFixture.RequestTimeout);
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            return (process.ExitCode, await stdout + await stderr);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>The registry's build beside this test project's, in the same configuration.</summary>
    private static string RegistryAssembly()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testBin.Name;
        var configuration = testBin.Parent!.Name;
        var root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "MlPlatform.sln")))
        {
            root = root.Parent;
        }
        var path = Path.Combine(root!.FullName, "ModelRegistry", "bin", configuration, framework, "ModelRegistry.dll");
        Assert.True(File.Exists(path), $"The registry is not built at {path}.");
        return path;
    }
}
