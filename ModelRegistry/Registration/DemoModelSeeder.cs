using MlPlatform.Contracts;
using Microsoft.Extensions.Options;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Registration;

/// <summary>Registers the configured seed model through the ordinary registration path (hash, blob store, inspection) before the registry serves.</summary>
public sealed class DemoModelSeeder(
    IOptions<SeedOptions> options, ModelStore store, AliasStore aliases, ModelRegistration registration, EventPublisher events, ILogger<DemoModelSeeder> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var seed = options.Value;
        if (string.IsNullOrWhiteSpace(seed.ModelPath) || string.IsNullOrWhiteSpace(seed.ModelName))
        {
            return;
        }
        if (!NameRules.IsValidName(seed.ModelName) || !NameRules.IsValidName(seed.Alias))
        {
            throw new OptionsValidationException(SeedOptions.SectionName, typeof(SeedOptions), [$"Seed:ModelName and Seed:Alias must be valid names. {NameRules.NameRule}"]);
        }
        if (await store.GetModelAsync(seed.ModelName, cancellationToken) is not null)
        {
            return;
        }
        if (!File.Exists(seed.ModelPath))
        {
            throw new FileNotFoundException(
                $"Seed:ModelPath '{seed.ModelPath}' does not exist; regenerate the demo models with tools/generate-models.sh or unset Seed:ModelPath.",
                seed.ModelPath);
        }

        RegistrationOutcome outcome;
        await using (var file = File.OpenRead(seed.ModelPath))
        using (var staged = await registration.StageAsync(file, cancellationToken))
        {
            outcome = await registration.RegisterAsync(seed.ModelName, staged, "Demo model registered at first start", new Dictionary<string, string> { ["source"] = "seed" },
                idempotencyKey: null, createdBy: null, cancellationToken);
        }
        if (outcome is not RegistrationOutcome.Registered registered)
        {
            logger.LogError("The seed model {Path} was not registered: {Outcome}", seed.ModelPath, outcome);
            return;
        }
        var version = registered.Created.Version.Version;
        var aliased = await aliases.SetAliasAsync(seed.ModelName, seed.Alias, version, null, "demo model seeded at first start",
            new Caller("seed", null), cancellationToken);
        if (aliased.Value?.Event is { } change)
        {
            await events.PublishAsync(change);
        }
        logger.LogInformation("Seeded {Model} version {Version} as '{Alias}'", seed.ModelName, version, seed.Alias);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
