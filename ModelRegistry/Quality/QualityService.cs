using System.Text.Json;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>Why a quality report could not be made: the HTTP status and a sentence.</summary>
public sealed record QualityRefusal(int Status, string Detail);

/// <summary>
/// Computes a version's online quality over a window from the payload log and the labels, and the same for its baseline: the production
/// version when the version is not production, else the version production had before it.
/// </summary>
public sealed class QualityService(ModelStore models, ServingStore serving, AliasStore aliases, PayloadFiles files, FeedbackStore feedback, ReferenceStore references,
    QualityMetrics metrics, IOptions<QualityOptions> options, TimeProvider time)
{
    public async Task<(QualityReport? Report, QualityRefusal? Refusal)> GetAsync(string name, int version, TimeSpan window, CancellationToken cancellationToken)
    {
        var model = await models.GetModelAsync(name, cancellationToken);
        if (model is null || model.Versions.All(v => v.Version != version))
        {
            return (null, new QualityRefusal(StatusCodes.Status404NotFound, $"Model '{name}' has no version {version}."));
        }
        var settings = (await serving.GetServingAsync(name, cancellationToken)).Value?.Quality;
        if (settings is null)
        {
            return (null, new QualityRefusal(StatusCodes.Status409Conflict,
                $"Model '{name}' has no quality settings: PUT /v1/models/{name}/serving with \"quality\": {{\"task\", \"output\"}} first."));
        }
        var baseline = await BaselineOfAsync(model, version, cancellationToken);
        var figures = await FiguresAsync(name, version, settings, window, cancellationToken);
        metrics.Set(name, version, figures);
        var baselineFigures = baseline is { } b ? await FiguresAsync(name, b, settings, window, cancellationToken) : null;
        return (new QualityReport(name, version, DurationText.Format(window), settings.Task, settings.Output, figures, baseline, baselineFigures), null);
    }

    /// <summary>How <paramref name="version"/> answered the production requests copied to it in the window.</summary>
    public async Task<(ShadowReport? Report, QualityRefusal? Refusal)> GetShadowAsync(string name, int version, TimeSpan window, CancellationToken cancellationToken)
    {
        var model = await models.GetModelAsync(name, cancellationToken);
        if (model is null || model.Versions.All(v => v.Version != version))
        {
            return (null, new QualityRefusal(StatusCodes.Status404NotFound, $"Model '{name}' has no version {version}."));
        }
        if (model.FindAlias(AliasNames.Production)?.Version is not { } production)
        {
            return (null, new QualityRefusal(StatusCodes.Status409Conflict, $"Model '{name}' has no production version to compare with."));
        }
        var settings = (await serving.GetServingAsync(name, cancellationToken)).Value?.Quality;
        var now = time.GetUtcNow();
        var shadow = new List<PayloadRecord>();
        await foreach (var (_, record) in files.ReadAsync(name, version, now - window, now, options.Value.MaxRecordsPerAnalysis, cancellationToken))
        {
            if (record.Route == PayloadRoutes.Shadow)
            {
                shadow.Add(record);
            }
        }
        var originals = new Dictionary<string, PayloadRecord>(StringComparer.Ordinal);
        // Production's record is written when it answers, before the copy runs: from a little before the window, so no pair is cut.
        await foreach (var (_, record) in files.ReadAsync(name, production, now - window - TimeSpan.FromMinutes(1), now,
            options.Value.MaxRecordsPerAnalysis, cancellationToken))
        {
            if (record.Route == PayloadRoutes.Production)
            {
                originals[record.Id] = record;
            }
        }
        var c = ShadowComparison.Compare(shadow, originals, settings);
        return (new ShadowReport(name, version, DurationText.Format(window), production, c.Compared, c.Agreement, c.MeanAbsDiff, c.MaxAbsDiff,
            c.ShadowErrors, c.Shadow, c.Production), null);
    }

    /// <summary>
    /// Input drift of <paramref name="version"/>: its live window against its stored reference (a batch job's profile), else its first
    /// logged requests. The live side is every record but shadow copies, or only those of <paramref name="route"/> when given (a gate
    /// judges the candidate's own served traffic).
    /// </summary>
    public async Task<(DriftReport? Report, QualityRefusal? Refusal)> GetDriftAsync(string name, int version, TimeSpan window, CancellationToken cancellationToken,
        string? route = null)
    {
        var model = await models.GetModelAsync(name, cancellationToken);
        if (model is null || model.Versions.All(v => v.Version != version))
        {
            return (null, new QualityRefusal(StatusCodes.Status404NotFound, $"Model '{name}' has no version {version}."));
        }
        var now = time.GetUtcNow();
        var settings = options.Value;
        if (await references.GetAsync(name, version, cancellationToken) is { } profile)
        {
            return (await DriftAgainstProfileAsync(name, version, window, profile, now, route, cancellationToken), null);
        }
        var reference = new List<PayloadRecord>();
        await foreach (var (_, record) in files.ReadAsync(name, version, DateTimeOffset.UnixEpoch, now, settings.DriftReferenceRecords, cancellationToken))
        {
            reference.Add(record);
        }
        var referenceIds = reference.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var live = new List<PayloadRecord>();
        if (reference.Count >= settings.DriftReferenceRecords)
        {
            await foreach (var (_, record) in files.ReadAsync(name, version, now - window, now, settings.MaxRecordsPerAnalysis, cancellationToken))
            {
                if (!referenceIds.Contains(record.Id) && IsLive(record, route))
                {
                    live.Add(record);
                }
            }
        }
        var features = live.Count == 0 ? [] : DriftCalculator.Compute(reference, live);
        double? maxPsi = features.Count == 0 ? null : features[0].Psi;
        if (maxPsi is { } psi)
        {
            metrics.SetDrift(name, version, psi);
        }
        return (new DriftReport(name, version, DurationText.Format(window), "first-logged", reference.Count, live.Count, maxPsi,
            features.Take(settings.DriftTopFeatures).ToList()), null);
    }

    private static bool IsLive(PayloadRecord record, string? route) => route is null ? record.Route != PayloadRoutes.Shadow : record.Route == route;

    private async Task<DriftReport> DriftAgainstProfileAsync(string name, int version, TimeSpan window, InputProfile profile, DateTimeOffset now,
        string? route, CancellationToken cancellationToken)
    {
        var live = new List<PayloadRecord>();
        await foreach (var (_, record) in files.ReadAsync(name, version, now - window, now, options.Value.MaxRecordsPerAnalysis, cancellationToken))
        {
            if (IsLive(record, route))
            {
                live.Add(record);
            }
        }
        var features = live.Count == 0 ? [] : DriftCalculator.Compute(profile.Features, live);
        double? maxPsi = features.Count == 0 ? null : features[0].Psi;
        if (maxPsi is { } psi)
        {
            metrics.SetDrift(name, version, psi);
        }
        var source = profile.JobId is { } job ? $"{profile.Source}:{job}" : profile.Source;
        return new DriftReport(name, version, DurationText.Format(window), source, (int)Math.Min(int.MaxValue, profile.Rows), live.Count, maxPsi,
            features.Take(options.Value.DriftTopFeatures).ToList());
    }

    /// <summary>The figures of one version in the window ending now.</summary>
    public Task<QualityFigures> FiguresAsync(string name, int version, QualitySettings settings, TimeSpan window, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return FiguresAsync(name, version, settings, now - window, now, cancellationToken);
    }

    /// <summary>
    /// The figures of one version over the records logged from <paramref name="from"/> to <paramref name="to"/>: all of them, or only
    /// those served on <paramref name="route"/> when given. A gate passes the route it judges: a shadow copy carries the production
    /// request's id, so it would be joined with production's label and counted as the candidate's own answer.
    /// </summary>
    public async Task<QualityFigures> FiguresAsync(string name, int version, QualitySettings settings, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken, string? route = null)
    {
        var records = new List<PayloadRecord>();
        await foreach (var (_, record) in files.ReadAsync(name, version, from, to, options.Value.MaxRecordsPerAnalysis, cancellationToken))
        {
            if (route is null || record.Route == route)
            {
                records.Add(record);
            }
        }
        var ids = records.Where(r => r.Outcome == PayloadOutcomes.Success).Select(r => r.Id).Distinct(StringComparer.Ordinal).ToList();
        var labels = await feedback.GetLabelsAsync(name, ids, cancellationToken);
        return QualityCalculator.Compute(settings, records, labels);
    }

    private async Task<int?> BaselineOfAsync(ModelDetails model, int version, CancellationToken cancellationToken)
    {
        var production = model.FindAlias(AliasNames.Production)?.Version;
        if (production is { } p && p != version)
        {
            return p;
        }
        var history = await aliases.GetAliasHistoryAsync(model.Name, AliasNames.Production, cancellationToken);
        return history.Value?.LastOrDefault(c => c.ToVersion == version && c.FromVersion is not null && c.FromVersion != version)?.FromVersion;
    }
}
