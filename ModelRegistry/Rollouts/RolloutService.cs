using System.Globalization;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Aliases;
using MlPlatform.ModelRegistry.Alerts;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Fleet;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>Starts, advances, promotes, rolls back and aborts rollouts, and runs the guard after plain promotions.</summary>
public sealed partial class RolloutService(RolloutStore rollouts, ModelStore models, EventPublisher events, FleetStatsReader stats,
    AlertCenter alerts, QualityGateJudge gates, IOptions<GuardOptions> guardOptions, IOptions<RolloutOptions> rolloutOptions, TimeProvider time, ILogger<RolloutService> logger)
{
    public const string CanaryAlias = AliasNames.Canary;
    public const string RolloutFailedAlert = "rollout-failed";
    public const string GuardRollbackAlert = "guard-rollback";

    /// <summary>Who the controller's alias changes are recorded as.</summary>
    public static readonly Caller ControllerCaller = new("rollout-controller", "system");

    // The API and the controller of one replica change a rollout and its aliases one at a time; across replicas the store's
    // conditional transitions decide.
    private const int MaxAbortAttempts = 5;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<StoreResult<Rollout>> StartAsync(string model, int version, int[] steps, TimeSpan stepInterval, double maxErrorRate,
        double maxP99Ms, long minRequests, TimeSpan deadline, Caller caller, CancellationToken cancellationToken, IReadOnlyList<string>? forcedOver = null,
        string? reason = null, QualityGates? qualityGates = null)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var details = await models.GetModelAsync(model, cancellationToken);
            if (details is null)
            {
                return StoreResult<Rollout>.NotFound($"Model '{model}' does not exist.");
            }
            var target = details.Versions.SingleOrDefault(v => v.Version == version);
            if (target is null)
            {
                return StoreResult<Rollout>.NotFound($"Model '{model}' has no version {version}.");
            }
            if (target.Archived)
            {
                return StoreResult<Rollout>.Conflict($"Version {version} of '{model}' is archived.");
            }
            var production = details.Aliases.SingleOrDefault(a => a.Name == RollbackPlanner.ProductionAlias);
            if (production is null)
            {
                return StoreResult<Rollout>.Conflict($"Model '{model}' has no production version for a canary to take traffic from; set 'production' first.");
            }
            if (production.Version == version)
            {
                return StoreResult<Rollout>.Conflict($"Version {version} of '{model}' is already production.");
            }
            var now = time.GetUtcNow();
            var rollout = new Rollout
            {
                Id = Guid.NewGuid().ToString("N"), Model = model, Kind = Rollout.KindRollout, Version = version, BaselineVersion = production.Version,
                Status = Rollout.StatusRunning, Steps = steps, StepInterval = DurationText.Format(stepInterval), MaxErrorRate = maxErrorRate,
                MaxP99Ms = maxP99Ms, MinRequests = minRequests, Deadline = DurationText.Format(deadline), CurrentStep = 0, CurrentWeight = steps[0],
                CreatedAt = now, StepStartedAt = now, NextAnalysisAt = now + stepInterval, Actor = caller.Actor,
                StartReason = reason, Gates = qualityGates is { Any: true } ? qualityGates : null,
            };
            var started = await rollouts.TryInsertAsync(rollout,
                [AliasEdit.Set(CanaryAlias, version, steps[0], $"rollout {rollout.Id} step 1: {steps[0]}%{Because(reason)}", forcedOver)], ControllerCaller, cancellationToken);
            if (started is null)
            {
                return StoreResult<Rollout>.Conflict($"Another rollout of '{model}' is running; abort it (DELETE) or wait for it to finish.");
            }
            await PublishAsync(started);
            LogStarted(logger, model, version, rollout.Id, string.Join(",", steps));
            return StoreResult<Rollout>.Ok(rollout);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A caller's reason as the suffix of a recorded one ("...: why"), or nothing.</summary>
    private static string Because(string? reason) => reason is null ? "" : $": {reason}";

    /// <summary>Aborts a running rollout the way a breach rolls it back: canary removed, production untouched.</summary>
    public async Task<StoreResult<Rollout>> AbortAsync(string model, string id, Caller caller, CancellationToken cancellationToken, string? reason = null)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // The controller of another replica may step the rollout between our read and our write: then the write changes nothing
            // and we read again. Whichever commits first wins; a rollout that finished meanwhile is no longer abortable.
            for (var attempt = 1; ; attempt++)
            {
                if (await rollouts.GetAsync(model, id, cancellationToken) is not var (rollout, revision))
                {
                    return StoreResult<Rollout>.NotFound($"Model '{model}' has no rollout '{id}'.");
                }
                if (rollout.Status != Rollout.StatusRunning)
                {
                    return StoreResult<Rollout>.Conflict($"Rollout '{id}' is {rollout.Status}, not running.");
                }
                var aborted = rollout with
                {
                    Status = Rollout.StatusAborted, CurrentWeight = null, FinishedAt = time.GetUtcNow(),
                    Reason = $"aborted by {caller.Actor}{Because(reason)}",
                };
                IReadOnlyList<AliasEdit> edits = rollout.Kind == Rollout.KindRollout
                    ? [AliasEdit.Remove(CanaryAlias, rollout.Version, $"rollout {id} aborted by {caller.Actor}{Because(reason)}")]
                    : [];
                if (await rollouts.TryTransitionAsync(aborted, revision, edits, caller, cancellationToken) is { } transition)
                {
                    await PublishAsync(transition);
                    return StoreResult<Rollout>.Ok(aborted);
                }
                if (attempt == MaxAbortAttempts)
                {
                    return StoreResult<Rollout>.Conflict($"Rollout '{id}' kept changing while it was being aborted; try again.");
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts watching <paramref name="version"/> after a plain promotion, replacing an earlier guard of the model.</summary>
    public async Task StartGuardAsync(string model, int version, int? previous, Caller caller, CancellationToken cancellationToken)
    {
        var guard = guardOptions.Value;
        if (!guard.Enabled)
        {
            return;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            foreach (var (running, revision) in await rollouts.ListRunningAsync(cancellationToken))
            {
                if (running.Model == model && running.Kind == Rollout.KindGuard)
                {
                    await rollouts.TryUpdateAsync(running with
                    {
                        Status = Rollout.StatusAborted, FinishedAt = now, Reason = $"production moved to version {version}",
                    }, revision, cancellationToken);
                }
            }
            var window = TimeSpan.FromSeconds(guard.WindowSeconds);
            await rollouts.TryInsertAsync(new Rollout
            {
                Id = Guid.NewGuid().ToString("N"), Model = model, Kind = Rollout.KindGuard, Version = version, BaselineVersion = previous,
                Status = Rollout.StatusRunning, Steps = [], StepInterval = DurationText.Format(window), MaxErrorRate = guard.MaxErrorRate,
                MaxP99Ms = guard.MaxP99Ms, MinRequests = guard.MinRequests, Deadline = DurationText.Format(TimeSpan.FromSeconds(guard.PeriodSeconds)),
                CreatedAt = now, StepStartedAt = now, NextAnalysisAt = now + window, Actor = caller.Actor, Gates = guard.Gates.ToGates(),
            }, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>One controller pass over a running rollout or guard: analyse when its interval is due and act on the verdict.</summary>
    public async Task AdvanceAsync(Rollout rollout, long revision, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now < rollout.NextAnalysisAt)
        {
            return;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (rollout.Kind == Rollout.KindGuard)
            {
                await GuardStepAsync(rollout, revision, now, cancellationToken);
            }
            else
            {
                await RolloutStepAsync(rollout, revision, now, cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RolloutStepAsync(Rollout rollout, long revision, DateTimeOffset now, CancellationToken cancellationToken)
    {
        DurationText.TryParse(rollout.StepInterval, out var interval);
        DurationText.TryParse(rollout.Deadline, out var deadline);
        var from = rollout.StepStartedAt.ToUnixTimeSeconds();
        var to = now.ToUnixTimeSeconds();
        // Only alias-routed requests are judged (pinned ones can be aimed at the canary by anyone), and production in the same
        // windows is the baseline: what slows or fails both is the machine's, not the canary's.
        var candidate = Figures(await stats.ReadRangeAsync(rollout.Model, rollout.Version, from, to, cancellationToken));
        WindowFigures? baseline = rollout.BaselineVersion is { } b
            ? Figures(await stats.ReadRangeAsync(rollout.Model, b, from, to, cancellationToken))
            : null;
        var settings = rolloutOptions.Value;
        var (verdict, reason) = AnalysisRules.Judge(candidate, baseline, new AnalysisThresholds(rollout.MaxErrorRate, rollout.MaxP99Ms, rollout.MinRequests,
            settings.ErrorRateMargin, settings.P99Factor));
        // Quality gates over the step's window, the baseline (production) over the same one; only a failure acts.
        var gateResults = await gates.JudgeAsync(rollout.Model, rollout.Version, PayloadRoutes.Canary, rollout.Gates, rollout.StepStartedAt, now, rollout.BaselineVersion,
            (rollout.StepStartedAt, now), cancellationToken);
        var weight = rollout.CurrentWeight;
        var window = DurationText.Format(TimeSpan.FromSeconds(Math.Max(1, to - from + 1)));
        RolloutAnalysis Analysis(string decision) => AnalysisRules.Record(now, rollout.CurrentStep + 1, weight, window, candidate, baseline, decision, reason, gateResults);

        if (verdict != Verdict.Breach && GateRules.FirstFailure(gateResults) is { } failedGate)
        {
            reason = GateRules.Reason(failedGate);
            await FailAsync(rollout, revision, Analysis("rollback"), now, $"rolled back at step {rollout.CurrentStep + 1} ({weight}%): {reason}",
                (failedGate.Value ?? 0, failedGate.Threshold), cancellationToken);
            return;
        }
        if (verdict == Verdict.Inconclusive && now >= rollout.CreatedAt + deadline)
        {
            await FailAsync(rollout, revision, Analysis("fail"), now,
                $"deadline {rollout.Deadline} passed at step {rollout.CurrentStep + 1} ({weight}%) without a verdict: {reason}",
                AnalysisRules.AlertFigures(candidate, rollout), cancellationToken);
            return;
        }
        switch (verdict)
        {
            case Verdict.Breach:
                await FailAsync(rollout, revision, Analysis("rollback"), now,
                    $"rolled back at step {rollout.CurrentStep + 1} ({weight}%): {reason}", AnalysisRules.AlertFigures(candidate, rollout), cancellationToken);
                return;
            case Verdict.Inconclusive:
                await rollouts.TryUpdateAsync(rollout with { NextAnalysisAt = now + interval, Analyses = [.. rollout.Analyses, Analysis("wait")] },
                    revision, cancellationToken);
                return;
        }
        if (rollout.CurrentStep + 1 >= rollout.Steps.Length)
        {
            var promoted = rollout with
            {
                Status = Rollout.StatusSucceeded, CurrentWeight = null, FinishedAt = now,
                Reason = $"promoted to production after {rollout.Steps.Length} steps", Analyses = [.. rollout.Analyses, Analysis("promote")],
            };
            var promotion = await rollouts.TryTransitionAsync(promoted, revision,
            [
                AliasEdit.Set(RollbackPlanner.ProductionAlias, rollout.Version, null, $"rollout {rollout.Id} succeeded"),
                AliasEdit.Remove(CanaryAlias, rollout.Version, $"rollout {rollout.Id} promoted version {rollout.Version}"),
            ], ControllerCaller, cancellationToken);
            if (promotion is not null)
            {
                await PublishAsync(promotion);
                LogFinished(logger, rollout.Model, rollout.Version, rollout.Id, promoted.Status, promoted.Reason!);
            }
            return;
        }
        var next = rollout.CurrentStep + 1;
        var advanced = rollout with
        {
            CurrentStep = next, CurrentWeight = rollout.Steps[next], StepStartedAt = now, NextAnalysisAt = now + interval,
            Analyses = [.. rollout.Analyses, Analysis("advance")],
        };
        if (await rollouts.TryTransitionAsync(advanced, revision,
            [AliasEdit.Set(CanaryAlias, rollout.Version, rollout.Steps[next], $"rollout {rollout.Id} step {next + 1}: {rollout.Steps[next]}%")],
            ControllerCaller, cancellationToken) is { } transition)
        {
            await PublishAsync(transition);
        }
    }

    private async Task FailAsync(Rollout rollout, long revision, RolloutAnalysis analysis, DateTimeOffset now, string reason,
        (double Value, double Threshold) measured, CancellationToken cancellationToken)
    {
        var failed = rollout with
        {
            Status = Rollout.StatusFailed, CurrentWeight = null, FinishedAt = now, Reason = reason, Analyses = [.. rollout.Analyses, analysis],
        };
        var transition = await rollouts.TryTransitionAsync(failed, revision,
            [AliasEdit.Remove(CanaryAlias, rollout.Version, $"rollout {rollout.Id} failed: {reason}")], ControllerCaller, cancellationToken);
        if (transition is null)
        {
            return;
        }
        await PublishAsync(transition);
        LogFinished(logger, rollout.Model, rollout.Version, rollout.Id, failed.Status, reason);
        await alerts.FireAsync(RolloutFailedAlert, rollout.Id, "critical", rollout.Model, rollout.Version, measured.Value, measured.Threshold,
            $"Rollout {rollout.Id} of {rollout.Model} version {rollout.Version} failed: {reason}. Production stays at version {rollout.BaselineVersion}.",
            Links(rollout), cancellationToken);
    }

    private async Task GuardStepAsync(Rollout guard, long revision, DateTimeOffset now, CancellationToken cancellationToken)
    {
        DurationText.TryParse(guard.StepInterval, out var window);
        DurationText.TryParse(guard.Deadline, out var period);
        var production = (await models.GetModelAsync(guard.Model, cancellationToken))?.Aliases
            .SingleOrDefault(a => a.Name == RollbackPlanner.ProductionAlias);
        if (production?.Version != guard.Version)
        {
            await rollouts.TryUpdateAsync(guard with
            {
                Status = Rollout.StatusAborted, FinishedAt = now,
                Reason = production is null ? "production was removed" : $"production moved to version {production.Version}",
            }, revision, cancellationToken);
            return;
        }
        var candidate = Figures(await stats.ReadAsync(guard.Model, guard.Version, window, cancellationToken));
        // The baseline is the previous production version's routed traffic over the window before the promotion.
        var settings = guardOptions.Value;
        var promotedAt = guard.CreatedAt.ToUnixTimeSeconds();
        WindowFigures? baseline = guard.BaselineVersion is { } previous
            ? Figures(await stats.ReadRangeAsync(guard.Model, previous, promotedAt - settings.BaselineWindowSeconds, promotedAt - 1, cancellationToken))
            : null;
        var (verdict, reason) = AnalysisRules.Judge(candidate, baseline, new AnalysisThresholds(guard.MaxErrorRate, guard.MaxP99Ms, guard.MinRequests,
            settings.ErrorRateMargin, settings.P99Factor));
        // Quality gates over everything since the promotion (labels come late: a sliding window moves past a request before its label
        // arrives); accuracy against the previous version's labelled requests before the promotion.
        var gateResults = await gates.JudgeAsync(guard.Model, guard.Version, PayloadRoutes.Production, guard.Gates, guard.CreatedAt, now, guard.BaselineVersion,
            (guard.CreatedAt - TimeSpan.FromSeconds(settings.BaselineWindowSeconds), guard.CreatedAt), cancellationToken);
        var failedGate = verdict == Verdict.Breach ? null : GateRules.FirstFailure(gateResults);
        if (failedGate is not null)
        {
            (verdict, reason) = (Verdict.Breach, GateRules.Reason(failedGate));
        }
        RolloutAnalysis Analysis(string decision) => AnalysisRules.Record(now, 1, null, guard.StepInterval, candidate, baseline, decision, reason, gateResults);

        if (verdict == Verdict.Breach)
        {
            var failed = guard with
            {
                Status = Rollout.StatusFailed, FinishedAt = now, Reason = $"breach ({reason})", Analyses = [.. guard.Analyses, Analysis("rollback")],
            };
            // The rollback commits with the guard's failure, and only while production is still the guarded version: a promotion
            // by hand in between ends the guard first (StartGuardAsync), and this transition then changes nothing.
            var transition = await rollouts.TryTransitionAsync(failed, revision,
                [AliasEdit.RollBackProduction(guard.Version, $"guard {guard.Id}: {reason}")], ControllerCaller, cancellationToken,
                (state, aliases) => state with
                {
                    Reason = aliases.Applied.FirstOrDefault()?.Alias is { } target
                        ? $"rolled back to version {target.Version}: {reason}"
                        : $"breach ({reason}) but no rollback was possible: {string.Join("; ", aliases.Refused)}",
                });
            if (transition is not null)
            {
                await PublishAsync(transition);
                var outcome = transition.Rollout.Reason!;
                LogFinished(logger, guard.Model, guard.Version, guard.Id, failed.Status, outcome);
                var (value, threshold) = failedGate is not null ? (failedGate.Value ?? 0, failedGate.Threshold) : AnalysisRules.AlertFigures(candidate, guard);
                await alerts.FireAsync(GuardRollbackAlert, guard.Id, "critical", guard.Model, guard.Version, value, threshold,
                    $"Guard {guard.Id}: version {guard.Version} of {guard.Model} {outcome}.", Links(guard), cancellationToken);
            }
            return;
        }
        if (now >= guard.CreatedAt + period)
        {
            await rollouts.TryUpdateAsync(guard with
            {
                Status = Rollout.StatusSucceeded, FinishedAt = now, Reason = $"watched for {guard.Deadline} without a breach",
                Analyses = [.. guard.Analyses, Analysis("pass")],
            }, revision, cancellationToken);
            return;
        }
        await rollouts.TryUpdateAsync(guard with
        {
            NextAnalysisAt = now + window, Analyses = [.. guard.Analyses.TakeLast(50), Analysis(verdict == Verdict.Healthy ? "pass" : "wait")],
        }, revision, cancellationToken);
    }

    /// <summary>The judged figures: the alias-routed requests the version handled (client errors and rejections are never judged).</summary>
    private static WindowFigures Figures(VersionStats s) => new(s.Routed.Judged, s.Routed.Errors, s.Routed.PercentileMs(0.99));

    private static Dictionary<string, string> Links(Rollout rollout) => new()
    {
        ["rollout"] = $"/v1/models/{rollout.Model}/rollouts/{rollout.Id}",
        ["stats"] = string.Create(CultureInfo.InvariantCulture, $"/v1/models/{rollout.Model}/versions/{rollout.Version}/stats?window=5m"),
    };

    /// <summary>Publishes the alias changes a committed transition made, and logs the ones it could not make.</summary>
    private async Task PublishAsync(RolloutTransition transition)
    {
        foreach (var update in transition.Aliases.Applied)
        {
            if (update.Event is { } change)
            {
                await events.PublishAsync(change);
            }
        }
        foreach (var refusal in transition.Aliases.Refused)
        {
            LogAliasRefused(logger, transition.Rollout.Model, transition.Rollout.Id, refusal);
        }
    }
}
