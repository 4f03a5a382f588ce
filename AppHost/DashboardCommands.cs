using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace MlPlatform.AppHost;

/// <summary>
/// Operator actions on the registry resource in the Aspire dashboard (and <c>aspire resource</c> commands): roll a model's
/// production alias back, register the demo model. They call the registry's own API with the internal credential and
/// record <see cref="Actor"/> as the caller, so the alias history says the change came from the dashboard.
/// </summary>
internal static class DashboardCommands
{
    public const string RollbackCommand = "roll-back-production";
    public const string RegisterDemoModelCommand = "register-demo-model";
    public const string Actor = "aspire-dashboard";

    private static readonly TimeSpan CallTimeout = TimeSpan.FromMinutes(2);

    public static IResourceBuilder<ProjectResource> WithOperatorCommands(
        this IResourceBuilder<ProjectResource> registry, IResourceBuilder<ParameterResource> internalApiKey)
    {
        if (registry.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            return registry;
        }
        var demoModel = Path.GetFullPath(Path.Combine(registry.ApplicationBuilder.AppHostDirectory, "..", "models", "iris.onnx"));
        var endpoint = registry.GetEndpoint("http");

        registry.WithCommand(RollbackCommand, "Roll back production", context => RunAsync(context, endpoint, internalApiKey, async (http, ct) =>
        {
            var model = context.Arguments.GetString("model") ?? "";
            var reason = context.Arguments.GetString("reason") ?? "";
            using var response = await http.PostAsJsonAsync($"v1/models/{Uri.EscapeDataString(model)}/rollback", new { reason }, ct);
            if (!response.IsSuccessStatusCode)
            {
                return await FailureAsync(response, ct);
            }
            var alias = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            return CommandResults.Success($"{model}: production → version {alias.GetProperty("version").GetInt32()}");
        }), new CommandOptions
        {
            Description = "Move a model's production alias back to the version it held before (POST /v1/models/{name}/rollback)",
            ConfirmationMessage = "Roll the model's production alias back to its previous version?",
            IconName = "ArrowUndo",
            UpdateState = WhenHealthy,
            Arguments =
            [
                new InteractionInput { Name = "model", Label = "Model", InputType = InputType.Text, Required = true, Value = "iris" },
                new InteractionInput { Name = "reason", Label = "Reason (recorded in the alias history)", InputType = InputType.Text, Required = true, MaxLength = 1000 },
            ],
        });

        registry.WithCommand(RegisterDemoModelCommand, "Register demo model", context => RunAsync(context, endpoint, internalApiKey, async (http, ct) =>
        {
            var model = context.Arguments.GetString("model") ?? "";
            await using var file = File.OpenRead(demoModel);
            using var content = new StreamContent(file);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            var description = Uri.EscapeDataString("iris demo model, registered from the Aspire dashboard");
            using var registered = await http.PostAsync($"v1/models/{Uri.EscapeDataString(model)}/versions?description={description}", content, ct);
            if (!registered.IsSuccessStatusCode)
            {
                return await FailureAsync(registered, ct);
            }
            var version = (await registered.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("version").GetInt32();
            using var promoted = await http.PutAsJsonAsync($"v1/models/{Uri.EscapeDataString(model)}/aliases/production",
                new { version, reason = "demo model registered from the Aspire dashboard" }, ct);
            if (!promoted.IsSuccessStatusCode)
            {
                return await FailureAsync(promoted, ct);
            }
            return CommandResults.Success($"{model}: registered version {version} from models/iris.onnx; production → version {version}");
        }), new CommandOptions
        {
            Description = "Register models/iris.onnx as a new version and point production at it",
            IconName = "BoxArrowUp",
            UpdateState = WhenHealthy,
            Arguments =
            [
                new InteractionInput { Name = "model", Label = "Model name", InputType = InputType.Text, Required = true, Value = "iris" },
            ],
        });
        return registry;
    }

    private static ResourceCommandState WhenHealthy(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
            ? ResourceCommandState.Enabled
            : ResourceCommandState.Disabled;

    private static async Task<ExecuteCommandResult> RunAsync(ExecuteCommandContext context, EndpointReference endpoint,
        IResourceBuilder<ParameterResource> internalApiKey, Func<HttpClient, CancellationToken, Task<ExecuteCommandResult>> call)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        timeout.CancelAfter(CallTimeout);
        using var http = new HttpClient { BaseAddress = new Uri(endpoint.Url + "/") };
        http.DefaultRequestHeaders.Add(PlatformHeaders.InternalKey, await internalApiKey.Resource.GetValueAsync(timeout.Token));
        http.DefaultRequestHeaders.Add(PlatformHeaders.Actor, Actor);
        http.DefaultRequestHeaders.Add(PlatformHeaders.Role, "admin");
        try
        {
            return await call(http, timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            context.Logger.LogWarning(ex, "Dashboard command on {Resource} failed", context.ResourceName);
            return CommandResults.Failure($"The registry could not be reached: {ex.Message}");
        }
    }

    /// <summary>The registry's problem <c>detail</c> as the command's error, so the dashboard shows why.</summary>
    private static async Task<ExecuteCommandResult> FailureAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        try
        {
            using var problem = JsonDocument.Parse(body);
            if (problem.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
            {
                return CommandResults.Failure($"{(int)response.StatusCode}: {detail.GetString()}");
            }
        }
        catch (JsonException)
        {
            // Not a problem document: the status says enough.
        }
        return CommandResults.Failure($"{(int)response.StatusCode} {response.ReasonPhrase}");
    }
}
