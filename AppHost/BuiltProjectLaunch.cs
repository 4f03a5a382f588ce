using System.Reflection;
using System.Runtime.Versioning;
using Microsoft.Extensions.Configuration;

namespace MlPlatform.AppHost;

/// <summary>
/// Run mode: every project resource is launched as <c>dotnet &lt;its built assembly&gt;</c> instead of Aspire's default
/// <c>dotnet run --project … --configuration …</c>. Aspire 13.6 does not pass <c>--no-build</c>, so each start (the first one, every
/// restart by the supervisor, every Start from the dashboard) ran MSBuild over the project and its references before the service
/// began to start: on this 2-core machine under other builds the first output of <c>dotnet run</c> had not come after 120 s, while the
/// built assembly printed its first line in 2.7 s. The AppHost's own build builds every referenced project in its configuration, so the
/// assembly is there and current (<c>./platform start</c> and <c>./platform test</c> build first; the dashboard's Rebuild command
/// rebuilds one). A missing assembly falls back to <c>dotnet run</c>. Left alone under an IDE debug session (the IDE launches projects)
/// and when <c>Platform:LaunchBuiltProjects=false</c>.
/// </summary>
internal static class BuiltProjectLaunch
{
    public const string SettingName = "Platform:LaunchBuiltProjects";

    public static void LaunchProjectsFromBuildOutput(this IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode || !builder.Configuration.GetValue(SettingName, true)
            || !string.IsNullOrEmpty(builder.Configuration["DEBUG_SESSION_PORT"]))
        {
            return;
        }
        var appHost = typeof(BuiltProjectLaunch).Assembly;
        var configuration = appHost.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var framework = appHost.GetCustomAttribute<TargetFrameworkAttribute>()?.FrameworkName is { } name
            ? $"net{new FrameworkName(name).Version.ToString(2)}"
            : $"net{Environment.Version.ToString(2)}";

        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            var projectPath = project.GetProjectMetadata().ProjectPath;
            var projectDirectory = Path.GetDirectoryName(projectPath)!;
            var assembly = BuiltAssemblyPath(projectPath, configuration, framework);
            if (!File.Exists(assembly))
            {
                Console.Error.WriteLine($"{project.Name}: {assembly} is not built; it is started with 'dotnet run' (slower: MSBuild runs on every start).");
                continue;
            }
            project.Annotations.Add(new ExecutableAnnotation { Command = "dotnet", WorkingDirectory = projectDirectory });
            // First argument: argument callbacks run in annotation order, and the assembly must come before any argument of the service's own.
            project.Annotations.Insert(0, new CommandLineArgsCallbackAnnotation(args => args.Insert(0, assembly)));
        }
    }

    /// <summary>Where the SDK puts a project's assembly by default: <c>bin/{configuration}/{framework}/{project name}.dll</c>.</summary>
    public static string BuiltAssemblyPath(string projectPath, string configuration, string framework) =>
        Path.Combine(Path.GetDirectoryName(projectPath)!, "bin", configuration, framework, Path.GetFileNameWithoutExtension(projectPath) + ".dll");
}
