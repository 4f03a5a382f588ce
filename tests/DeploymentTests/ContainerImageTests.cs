using System.Text.Json;
using System.Text.RegularExpressions;

namespace MlPlatform.DeploymentTests;

/// <summary>
/// The container settings each service publishes with, read from MSBuild itself (<c>-t:ComputeContainerConfig</c>, the target
/// <c>PublishContainer</c> runs first), so the test sees what CD would build without pulling a base image.
/// </summary>
public sealed partial class ContainerImageTests
{
    public static TheoryData<string> Services => new(Repository.Services);

    [Theory]
    [MemberData(nameof(Services))]
    public async Task ServiceImageIsNamedAfterItsProjectUnderMlplatform(string service)
    {
        var config = await ContainerConfig.ComputeAsync(service);

        Assert.Equal(Repository.ImageRepositoryOf(service), config.Properties["ContainerRepository"]);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task ServiceImageRunsAsTheNumericNonRootAppUser(string service)
    {
        var config = await ContainerConfig.ComputeAsync(service);

        // Numeric, so Kubernetes can check runAsNonRoot against the image; 1654 is the "app" user of Microsoft's images.
        Assert.Equal(ContainerConfig.AppUser, config.Properties["ContainerUser"]);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task ServiceImageBuildsOnTheChiseledUbuntuAspNetImage(string service)
    {
        var config = await ContainerConfig.ComputeAsync(service);

        Assert.Equal(ContainerConfig.BaseImage, config.Properties["ContainerBaseImage"]);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task ServiceImageExposesHttpOnPort8080(string service)
    {
        var config = await ContainerConfig.ComputeAsync(service);

        var port = Assert.Single(config.Items["ContainerPort"]);
        Assert.Equal("8080", port.GetProperty("Identity").GetString());
        Assert.Equal("tcp", port.GetProperty("Type").GetString());
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task ServiceImageIsTaggedWithTheVersionAndTheVersionWithTheCommit(string service)
    {
        var config = await ContainerConfig.ComputeAsync(service);

        var version = config.Properties["Version"];
        var revision = config.Label("org.opencontainers.image.revision");
        Assert.Matches(CommitSha(), revision);
        var tags = config.Items["ContainerImageTags"].Select(t => t.GetProperty("Identity").GetString()).ToList();
        Assert.Equal([version, $"{version}-{revision[..7]}"], tags);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task ServiceImageCarriesOciLabelsForVersionTitleVendorAndBase(string service)
    {
        var config = await ContainerConfig.ComputeAsync(service);

        Assert.Equal(config.Properties["Version"], config.Label("org.opencontainers.image.version"));
        Assert.Equal($"MlPlatform {service}", config.Label("org.opencontainers.image.title"));
        Assert.Equal("MlPlatform", config.Label("org.opencontainers.image.vendor"));
        Assert.Equal(ContainerConfig.BaseImage, config.Label("org.opencontainers.image.base.name"));
        Assert.False(string.IsNullOrEmpty(config.Label("org.opencontainers.image.created")));
    }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitSha();
}

/// <summary>What <c>dotnet msbuild -t:ComputeContainerConfig</c> reports for one project, computed once per project per test run.</summary>
internal sealed class ContainerConfig
{
    public const string AppUser = "1654";
    public const string BaseImage = "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled";

    private static readonly Dictionary<string, Lazy<Task<ContainerConfig>>> Cache = [];
    private static readonly Lock CacheLock = new();

    public required IReadOnlyDictionary<string, string> Properties { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyList<JsonElement>> Items { get; init; }

    public string Label(string name) =>
        Items["ContainerLabel"].Where(l => l.GetProperty("Identity").GetString() == name)
            .Select(l => l.GetProperty("Value").GetString() ?? "")
            .Single();

    public static Task<ContainerConfig> ComputeAsync(string service)
    {
        Lazy<Task<ContainerConfig>> entry;
        lock (CacheLock)
        {
            if (!Cache.TryGetValue(service, out entry!))
            {
                entry = new Lazy<Task<ContainerConfig>>(() => RunMsBuildAsync(service));
                Cache[service] = entry;
            }
        }
        return entry.Value;
    }

    private static async Task<ContainerConfig> RunMsBuildAsync(string service)
    {
        string[] properties = ["ContainerRepository", "ContainerUser", "ContainerBaseImage", "Version"];
        string[] items = ["ContainerPort", "ContainerImageTags", "ContainerLabel"];
        var output = await Repository.RunAsync("dotnet",
        [
            "msbuild", Repository.PathOf(service, $"{service}.csproj"), "-nologo", "-t:ComputeContainerConfig",
            .. properties.Select(p => $"-getProperty:{p}"),
            .. items.Select(i => $"-getItem:{i}"),
        ]);
        using var json = JsonDocument.Parse(output);
        return new ContainerConfig
        {
            Properties = properties.ToDictionary(p => p, p => json.RootElement.GetProperty("Properties").GetProperty(p).GetString() ?? ""),
            Items = items.ToDictionary(i => i, i => (IReadOnlyList<JsonElement>)json.RootElement.GetProperty("Items").GetProperty(i)
                .EnumerateArray().Select(e => e.Clone()).ToList()),
        };
    }
}
