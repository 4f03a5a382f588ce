namespace MlPlatform.IntegrationTests.Supervision;

/// <summary>
/// A platform whose services get SIGKILLed: the app host's supervisor restarts them (half a second before the first restart, at most
/// two between restarts, so the crash loop ends within seconds), and the registry evaluates its alert rules every half second.
/// One batch scorer replica can be made to exit at once on start (<see cref="CrashOnStart"/>).
/// </summary>
public sealed class SupervisorFixture : PlatformFixture
{
    /// <summary>The replica the crash loop test breaks.</summary>
    public const string LoopingReplica = "batchscorer-2";

    /// <summary>
    /// When set, <see cref="LoopingReplica"/> is started with a startup hook that does not exist, so the .NET runtime stops it before its
    /// Main runs (a setting its validation rejects would do too, but the host then takes 10 s to wind down before the process exits).
    /// </summary>
    public volatile bool CrashOnStart;

    protected override IEnumerable<string> ExtraArguments =>
    [
        "Platform:Supervisor:InitialBackoff=00:00:00.500",
        "Platform:Supervisor:MaxBackoff=00:00:02",
        "Registry:Alerts:EvaluationIntervalMilliseconds=500",
    ];

    protected override void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
        var replica = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == LoopingReplica);
        // Environment callbacks run at every start, the supervisor's restarts included.
        replica.Annotations.Add(new EnvironmentCallbackAnnotation(context =>
        {
            if (CrashOnStart)
            {
                context.EnvironmentVariables["DOTNET_STARTUP_HOOKS"] = Path.Combine(Path.GetTempPath(), "mlplatform-no-such-startup-hook.dll");
            }
        }));
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SupervisorCollection : ICollectionFixture<SupervisorFixture>
{
    public const string Name = "Supervisor";
}
