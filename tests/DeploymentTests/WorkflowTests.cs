using YamlDotNet.RepresentationModel;

namespace MlPlatform.DeploymentTests;

/// <summary>
/// The GitHub workflows parsed and read for what they promise. actionlint lints them too (.github/lint, run by .ci/run and ci.yml);
/// these tests hold the workflows to the repository's own commands and names.
/// </summary>
public sealed class WorkflowTests
{
    private static YamlMappingNode Load(string file) => Yaml.LoadFile(Repository.PathOf(".github", "workflows", file)).Single();

    private static IEnumerable<string> RunCommands(YamlNode job) => job.Items("steps").Select(s => s.Text("run")).OfType<string>();

    private static IEnumerable<string> Uses(YamlNode job) => job.Items("steps").Select(s => s.Text("uses")).OfType<string>();

    /// <summary>The test command of the README, which .ci/run executes (`exec ./platform test`).</summary>
    private static string TestCommand()
    {
        var line = File.ReadAllLines(Repository.PathOf(".ci", "run")).Single(l => l.StartsWith("exec ", StringComparison.Ordinal));
        return line["exec ".Length..].Trim();
    }

    [Fact]
    public void EveryWorkflowParsesWithTriggersAndJobs()
    {
        var files = Directory.EnumerateFiles(Repository.PathOf(".github", "workflows"), "*.yml").ToList();

        Assert.Equal(["cd.yml", "ci.yml"], files.Select(Path.GetFileName).Order());
        foreach (var file in files)
        {
            var workflow = Yaml.LoadFile(file).Single();
            Assert.False(string.IsNullOrEmpty(workflow.Text("name")));
            Assert.NotEmpty(workflow.Keys("on"));
            Assert.NotEmpty(workflow.Keys("jobs"));
            Assert.All(workflow.Keys("jobs"), job => Assert.NotEmpty(workflow.Items($"jobs.{job}.steps")));
        }
    }

    [Fact]
    public void CiRunsOnPushesAndPullRequests()
    {
        var ci = Load("ci.yml");

        Assert.Contains("push", ci.Keys("on"));
        Assert.Contains("pull_request", ci.Keys("on"));
    }

    [Fact]
    public void CiBuildsWithWarningsAsErrorsAndRunsTheReadmeTestCommandWithRedis()
    {
        var job = Load("ci.yml").At("jobs.build-and-test")!;
        var commands = RunCommands(job).ToList();

        Assert.Contains(commands, c => c.Contains("dotnet restore", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.Contains("dotnet build", StringComparison.Ordinal) && c.Contains("-warnaserror", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.Contains("apt-get install", StringComparison.Ordinal) && c.Contains("redis-server", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.Trim() == TestCommand());
        Assert.Contains("actions/setup-dotnet@v4", Uses(job));
    }

    [Fact]
    public void CiUploadsTheTestResultsEvenWhenTestsFail()
    {
        var job = Load("ci.yml").At("jobs.build-and-test")!;
        var upload = job.Items("steps").Single(s => s.Text("uses")?.StartsWith("actions/upload-artifact@", StringComparison.Ordinal) == true);

        Assert.Equal("always()", upload.Text("if"));
        // `./platform test` writes trx files there (--results-directory TestResults).
        Assert.Equal("TestResults/", upload.Text("with.path"));
        Assert.Contains("--results-directory TestResults", File.ReadAllText(Repository.PathOf("platform")));
    }

    [Fact]
    public void CiLintsTheWorkflowsWithActionlint()
    {
        var commands = RunCommands(Load("ci.yml").At("jobs.lint")!).ToList();

        Assert.Contains(commands, c => c.Contains("node .github/lint/lint-workflows.mjs", StringComparison.Ordinal));
        Assert.True(File.Exists(Repository.PathOf(".github", "lint", "package-lock.json")), "The linter's version is not locked.");
    }

    [Fact]
    public void CdRunsOnMainAndOnVersionTags()
    {
        var push = Load("cd.yml").At("on.push")!;

        Assert.Equal(["main"], push.Items("branches").Select(b => b.ToString()));
        Assert.Equal(["v*"], push.Items("tags").Select(b => b.ToString()));
    }

    [Fact]
    public void CdBuildsEveryServiceImageWithTheSdkContainerTarget()
    {
        var commands = string.Join('\n', RunCommands(Load("cd.yml").At("jobs.images")!));

        Assert.Contains("-t:PublishContainer", commands);
        Assert.Contains("-c Release", commands);
        Assert.Contains($"for project in {string.Join(' ', Repository.Services)}; do", commands);
        // No hand-written Dockerfile to drift from the project settings.
        string[] generated = ["bin", "obj", "node_modules", ".git"];
        Assert.DoesNotContain(Directory.EnumerateFiles(Repository.Root, "Dockerfile*", SearchOption.AllDirectories),
            f => !Path.GetRelativePath(Repository.Root, f).Split(Path.DirectorySeparatorChar).Intersect(generated).Any());
    }

    [Fact]
    public void CdPublishesTheAspireManifestAndTheKubernetesManifestsAsArtifacts()
    {
        var job = Load("cd.yml").At("jobs.manifests")!;
        var commands = string.Join('\n', RunCommands(job));

        Assert.Contains("dotnet run --project AppHost/AppHost.csproj -- --publisher manifest --output-path", commands);
        Assert.Contains("kubectl kustomize \"$overlay\"", commands);
        Assert.Contains(Uses(job), u => u.StartsWith("actions/upload-artifact@", StringComparison.Ordinal));
    }

    [Fact]
    public void CdDeploysOnlyThroughTheApprovedProductionEnvironment()
    {
        var cd = Load("cd.yml");

        foreach (var jobName in new[] { "deploy", "rollback" })
        {
            var job = cd.At($"jobs.{jobName}")!;
            Assert.Equal("production", job.Text("environment.name"));
            Assert.Contains(RunCommands(job), c => c.Contains("deploy/scripts/deploy.sh \"$REGISTRY\" \"$TAG\"", StringComparison.Ordinal));
        }
        Assert.Equal(["images", "manifests"], cd.Items("jobs.deploy.needs").Select(n => n.ToString()));
        Assert.True(File.Exists(Repository.PathOf("deploy", "scripts", "deploy.sh")));
    }

    [Fact]
    public void CdRollsBackToAChosenEarlierTagOnRequest()
    {
        var cd = Load("cd.yml");

        Assert.NotNull(cd.At("on.workflow_dispatch.inputs.rollback_to"));
        Assert.Contains("inputs.rollback_to != ''", cd.Text("jobs.rollback.if"));
        Assert.Contains("inputs.rollback_to == ''", cd.Text("jobs.images.if"));
        var script = File.ReadAllText(Repository.PathOf("deploy", "scripts", "deploy.sh"));
        // A failed rollout returns to the tag that ran before it.
        Assert.Contains("apply \"$previous\"", script);
    }
}
