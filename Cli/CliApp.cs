using MlPlatform.Cli.Commands;
using MlPlatform.Cli.Gateway;
using MlPlatform.Cli.Output;
using Spectre.Console.Cli;

namespace MlPlatform.Cli;

/// <summary>The command tree of <c>mlp</c>; every command and its examples are listed here, the behaviour lives in <c>Commands/</c>.</summary>
public static class CliApp
{
    /// <summary>Stands for a bare <c>-</c> (stdin), which Spectre.Console.Cli would otherwise read as an option without a name.</summary>
    public const string StdinArgument = "\u0001stdin";

    public static string[] NormaliseArguments(string[] args) =>
        args.Select(a => a == "-" ? StdinArgument : a).ToArray();

    public static void Configure(IConfigurator config)
    {
        config.SetApplicationName("mlp");
        config.Settings.StrictParsing = true;
        config.SetHelpProvider(new ExitCodesHelpProvider(config.Settings));
        // Parse and validation errors: one line and exit 1. Gateway errors are handled by each command (exit 2, 3, 4).
        config.SetExceptionHandler((ex, _) =>
        {
            Printer.Error(ex is CommandAppException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
            return ex is CommandAppException ? ExitCodes.Usage : ExitCodes.Unreachable;
        });

        config.AddExample("login", "--url", "http://localhost:8000", "--api-key", "$KEY");
        config.AddExample("models", "register", "iris", "models/iris.onnx", "--alias", "production");
        config.AddExample("infer", "iris", "--input", "request.json");
        config.AddExample("batch", "submit", "iris", "rows.csv", "--wait");

        config.AddCommand<LoginCommand>("login")
            .WithDescription("Check a gateway URL and API key and save them (mode 600) for later commands")
            .WithExample("login", "--url", "http://localhost:8000", "--api-key", "$KEY");

        config.AddBranch("models", models =>
        {
            models.SetDescription("List, show and register models");
            models.AddCommand<ModelsListCommand>("list")
                .WithDescription("List models with their latest version and aliases")
                .WithExample("models", "list")
                .WithExample("models", "list", "--prefix", "fraud-", "--json");
            models.AddCommand<ModelsShowCommand>("show")
                .WithDescription("Show a model's versions, signatures and aliases")
                .WithExample("models", "show", "iris");
            models.AddCommand<ModelsRegisterCommand>("register")
                .WithDescription("Upload an ONNX file as the model's next version (streamed, with a progress bar)")
                .WithExample("models", "register", "iris", "models/iris.onnx")
                .WithExample("models", "register", "iris", "iris-v2.onnx", "--description", "retrained", "--tag", "team=ds", "--alias", "production");
        });

        config.AddBranch("alias", alias =>
        {
            alias.SetDescription("Point aliases (production, canary, …) at versions");
            alias.AddCommand<AliasSetCommand>("set")
                .WithDescription("Point ALIAS of model NAME at VERSION")
                .WithExample("alias", "set", "iris", "production", "2", "--reason", "v2 passed review")
                .WithExample("alias", "set", "iris", "canary", "3", "--weight", "10", "--reason", "try v3 on 10%");
        });

        config.AddCommand<RollbackCommand>("rollback")
            .WithDescription("Move production back to the version it held before")
            .WithExample("rollback", "iris", "--reason", "v2 error rate");

        config.AddCommand<InferCommand>("infer")
            .WithDescription("Send a V2 inference request and print the outputs")
            .WithExample("infer", "iris", "--input", "request.json")
            .WithExample("infer", "iris", "--version", "1", "--input", "-", "--json");

        config.AddBranch("batch", batch =>
        {
            batch.SetDescription("Submit and follow batch scoring jobs");
            batch.AddCommand<BatchSubmitCommand>("submit")
                .WithDescription("Upload a CSV or JSONL file as a batch job")
                .WithExample("batch", "submit", "iris", "rows.csv", "--wait")
                .WithExample("batch", "submit", "iris", "rows.jsonl", "--version", "2", "--output", "Score.output");
            batch.AddCommand<BatchStatusCommand>("status")
                .WithDescription("Show a job's progress")
                .WithExample("batch", "status", "3f2c…");
            batch.AddCommand<BatchResultsCommand>("results")
                .WithDescription("Stream a job's results (one line per row, in input order)")
                .WithExample("batch", "results", "3f2c…", "--out", "results.jsonl")
                .WithExample("batch", "results", "3f2c…", "--format", "csv");
            batch.AddCommand<BatchCancelCommand>("cancel")
                .WithDescription("Cancel a queued or running job")
                .WithExample("batch", "cancel", "3f2c…");
            batch.AddCommand<BatchListCommand>("list")
                .WithDescription("List jobs, newest first")
                .WithExample("batch", "list", "--status", "running");
        });

        config.AddBranch("rollout", rollout =>
        {
            rollout.SetDescription("Progressive rollouts with automatic rollback");
            rollout.AddCommand<RolloutStartCommand>("start")
                .WithDescription("Roll VERSION out through the canary alias, step by step")
                .WithExample("rollout", "start", "iris", "3", "--steps", "10,50,100", "--step-interval", "1m", "--max-error-rate", "0.01");
            rollout.AddCommand<RolloutStatusCommand>("status")
                .WithDescription("Show a rollout's steps, analyses and outcome")
                .WithExample("rollout", "status", "iris", "ID");
            rollout.AddCommand<RolloutListCommand>("list")
                .WithDescription("List a model's rollouts and promotion guards, newest first")
                .WithExample("rollout", "list", "iris");
            rollout.AddCommand<RolloutAbortCommand>("abort")
                .WithDescription("Abort a rollout (the canary is removed, production untouched)")
                .WithExample("rollout", "abort", "iris", "ID");
        });

        config.AddCommand<PayloadsCommand>("payloads")
            .WithDescription("Print a version's payload log (JSON lines: id, inputs, outputs, latency, outcome); operator key")
            .WithExample("payloads", "iris", "--version", "2", "--since", "1h");
        config.AddCommand<FeedbackCommand>("feedback")
            .WithDescription("Send ground-truth labels for logged requests (JSON lines or a JSON array); operator key")
            .WithExample("feedback", "iris", "labels.jsonl");
        config.AddCommand<QualityCommand>("quality")
            .WithDescription("Show a version's online quality (accuracy or MAE/RMSE, coverage) beside its baseline")
            .WithExample("quality", "iris")
            .WithExample("quality", "iris", "--version", "2", "--window", "24h");
        config.AddBranch("shadow", shadow =>
        {
            shadow.SetDescription("Copy a share of production traffic to a version, compared but never returned");
            shadow.AddCommand<ShadowSetCommand>("set")
                .WithDescription("Point the shadow alias at VERSION with the share of production requests copied to it")
                .WithExample("shadow", "set", "iris", "3", "--weight", "10");
        });

        config.AddCommand<AlertsCommand>("alerts")
            .WithDescription("List alerts, most recent first")
            .WithExample("alerts", "--status", "firing");
    }
}
