using Microsoft.Extensions.Options;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>Reconciles the scorer's models with the registry at start-up and periodically after, so missed events heal; the first success makes the server ready.</summary>
internal sealed class RegistryReconciler(ModelReconciler reconciler, VersionCache versions, ServerReadiness readiness, IOptions<ReconciliationOptions> options,
    ILogger<RegistryReconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await reconciler.ReconcileAllAsync(stoppingToken);
                if (!readiness.IsReady)
                {
                    logger.LogInformation("First reconciliation with the registry done: {Count} versions loaded", versions.Count);
                }
                readiness.MarkReady();
                await Task.Delay(TimeSpan.FromSeconds(settings.IntervalSeconds), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ModelReconciler.IsRegistryFailure(ex, stoppingToken))
            {
                logger.LogWarning(ex, "Reconciliation with the registry failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(settings.RetrySeconds), stoppingToken);
            }
        }
    }
}
