using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MlPlatform.ModelRegistry.Events;

namespace MlPlatform.ModelRegistry.Alerts;

/// <summary>
/// Where alerts go when they fire or resolve: stored, logged, published as an <c>alert</c> event on Redis, and queued for the webhooks,
/// which a background loop POSTs with retries and exponential backoff (a slow or dead webhook never holds up the caller). A webhook gets
/// at most <see cref="WebhookOptions.MaxAttempts"/> POSTs per notification; logs name it by scheme, host and port only.
/// </summary>
public sealed partial class AlertCenter(AlertStore store, EventPublisher events, WebhookSender sender, IOptions<AlertOptions> options,
    TimeProvider time, ILogger<AlertCenter> logger) : BackgroundService
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Channel<AlertNotification> _outbox = Channel.CreateBounded<AlertNotification>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    /// <summary>Fires a new alert.</summary>
    public async Task<Alert> FireAsync(string name, string subject, string severity, string? model, int? version, double value, double threshold,
        string summary, IReadOnlyDictionary<string, string> links, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var alert = await store.InsertAsync(new Alert
        {
            Name = name, Subject = subject, Severity = severity, Status = Alert.StatusFiring, Model = model, Version = version,
            Value = value, Threshold = threshold, At = now, FiredAt = now, Summary = summary, Links = links,
        }, cancellationToken);
        await AnnounceAsync(alert);
        return alert;
    }

    /// <summary>Resolves a firing alert with the value that cleared it.</summary>
    public async Task<Alert> ResolveAsync(Alert firing, double value, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var resolved = firing with { Status = Alert.StatusResolved, Value = value, At = now, ResolvedAt = now };
        await store.UpdateAsync(resolved, cancellationToken);
        await AnnounceAsync(resolved);
        return resolved;
    }

    private async Task AnnounceAsync(Alert alert)
    {
        LogAlert(logger, alert.Name, alert.Status, alert.Severity, alert.Model, alert.Version, alert.Value, alert.Threshold, alert.Summary);
        var notification = AlertNotification.Of(alert);
        await events.PublishJsonAsync(RegistryEvents.Alert, JsonSerializer.Serialize(new { type = RegistryEvents.Alert, alert = notification }, Json));
        if (options.Value.Webhooks.Count > 0)
        {
            _outbox.Writer.TryWrite(notification);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var notification in _outbox.Reader.ReadAllAsync(stoppingToken))
        {
            // Webhooks are independent: one that is down must not delay the others.
            await Task.WhenAll(options.Value.Webhooks.Select(hook => DeliverAsync(hook, notification, stoppingToken)));
        }
    }

    private async Task DeliverAsync(WebhookOptions hook, AlertNotification notification, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(notification, Json);
        var url = WebhookTargets.Redact(hook.Url);
        var backoff = TimeSpan.FromMilliseconds(hook.InitialBackoffMilliseconds);
        for (var attempt = 1; attempt <= hook.MaxAttempts; attempt++)
        {
            if (await sender.PostAsync(hook.Url, body, cancellationToken) is not { } failure)
            {
                return;
            }
            if (attempt == hook.MaxAttempts)
            {
                LogGaveUp(logger, notification.Alert, url, attempt, failure);
                return;
            }
            LogRetry(logger, notification.Alert, url, attempt, failure, backoff.TotalMilliseconds);
            await Task.Delay(backoff, time, cancellationToken);
            backoff *= 2;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Alert} {Status} ({Severity}) model {Model} version {Version}: value {Value} threshold {Threshold}. {Summary}")]
    private static partial void LogAlert(ILogger logger, string alert, string status, string severity, string? model, int? version, double value, double threshold, string summary);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Url} for alert {Alert} failed (attempt {Attempt}: {Failure}); retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string alert, string url, int attempt, string failure, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook {Url} for alert {Alert} gave up after {Attempts} attempts: {Failure}")]
    private static partial void LogGaveUp(ILogger logger, string alert, string url, int attempts, string failure);
}
