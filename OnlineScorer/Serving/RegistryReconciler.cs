using MlPlatform.Inference.Registry;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>Reconciles the scorer's models with the registry at start-up and periodically after.</summary>
internal sealed class RegistryReconciler(RegistryClient registry, ServerReadiness readiness, ILogger<RegistryReconciler> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var page = await registry.ListModelsAsync(0, 500, stoppingToken);
                logger.LogInformation("Reconciled with the registry: {Count} models", page.Count);
                readiness.MarkReady();
                await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpRequestException ex)
            {
                logger.LogWarning(ex, "Reconciliation with the registry failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }
}
