using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MlPlatform.AppHost.Supervision;

internal static class SupervisorExtensions
{
    /// <summary>
    /// Run mode: restarts every project (each scorer replica is one) and the local Redis executables (<paramref name="redis"/>, the state
    /// Redis, and <paramref name="otherRedis"/>, e.g. the response cache) when they exit on their own (<see cref="ServiceSupervisor"/>),
    /// appends <c>service-crashed</c>/<c>service-restarted</c> to the events stream in <paramref name="redis"/>, and gives the registry the
    /// <c>service-crash-loop</c> alert rule. Settings: <see cref="SupervisorOptions"/> under <c>Platform:Supervisor</c>.
    /// Publish mode: nothing (Kubernetes restarts pods).
    /// </summary>
    public static void AddServiceSupervisor(this IDistributedApplicationBuilder builder, IResourceBuilder<IResourceWithConnectionString> redis,
        IResourceBuilder<ProjectResource> registry, params IResourceBuilder<IResourceWithConnectionString>[] otherRedis)
    {
        var settings = builder.Configuration.GetSection(SupervisorOptions.SectionName).Get<SupervisorOptions>() ?? new SupervisorOptions();
        if (builder.ExecutionContext.IsPublishMode || !settings.Enabled)
        {
            return;
        }
        builder.Services.AddOptions<SupervisorOptions>().BindConfiguration(SupervisorOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        if (settings.CrashLoopAlert)
        {
            registry.WithCrashLoopAlertRule(builder.Configuration.GetSection("Registry:Alerts:Rules"), settings);
        }

        builder.Services.AddSingleton<StopIntents>();
        builder.Services.AddSingleton(services => new SupervisedResources(services.GetRequiredService<DistributedApplicationModel>().Resources
            .Where(r => r is ProjectResource || (r is ExecutableResource && (r == redis.Resource || otherRedis.Any(o => o.Resource == r))))));
        builder.Services.AddSingleton(services => new ServiceEventLog(redis.Resource, services.GetRequiredService<IOptions<SupervisorOptions>>(),
            services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ServiceEventLog>>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<ServiceEventLog>());
        builder.Services.AddHostedService<ServiceSupervisor>();
        builder.Services.TryAddSingleton(TimeProvider.System);

        // After Aspire's own BeforeStart handlers, which add the lifecycle commands this wraps.
        builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
        {
            var intents = @event.Services.GetRequiredService<StopIntents>();
            foreach (var resource in @event.Services.GetRequiredService<SupervisedResources>().All)
            {
                intents.Wrap(resource);
            }
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// Appends the rule <c>service-crash-loop</c> after the rules configured under <c>Registry:Alerts:Rules</c> (unless one already has that
    /// name): it fires when a service crashed more often within the supervisor's window than the supervisor restarts it.
    /// </summary>
    private static void WithCrashLoopAlertRule(this IResourceBuilder<ProjectResource> registry, IConfigurationSection rules, SupervisorOptions settings)
    {
        var configured = rules.GetChildren().ToList();
        if (configured.Any(rule => rule["Name"] == CrashLoopRule))
        {
            return;
        }
        var index = configured.Select(rule => int.TryParse(rule.Key, out var i) ? i + 1 : 0).DefaultIfEmpty(0).Max();
        var prefix = $"Alerts__Rules__{index}__";
        registry
            .WithEnvironment(prefix + "Name", CrashLoopRule)
            .WithEnvironment(prefix + "Kind", CrashLoopRule)
            .WithEnvironment(prefix + "Threshold", settings.MaxRestarts.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment(prefix + "WindowSeconds", ((int)Math.Ceiling(settings.RestartWindow.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment(prefix + "Severity", "critical");
    }

    /// <summary>The alert rule's name and kind.</summary>
    public const string CrashLoopRule = "service-crash-loop";
}
