using System.Text.Json;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>The guard after a plain promotion, and rule alerts that fire and resolve, under real traffic through the gateway.</summary>
[Collection(FeedbackCollection.Name)]
public sealed class GuardAndAlertTests(FeedbackFixture platform)
{
    [Fact]
    public async Task APromotedVersionThatFailsOnValidRequestsIsRolledBackByTheGuard()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("guard");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-faulty.onnx");
        await SetAliasAsync(client, name, "production", v1);
        await using var traffic = Traffic.Start(client, name);
        await EventuallyAsync(() => Task.FromResult(traffic.Count("v1") > 0), "version 1 serves");

        await SetAliasAsync(client, name, "production", v2);

        JsonElement guard = default;
        await EventuallyAsync(async () =>
        {
            var (_, list) = await GetJsonAsync(client, $"/v1/models/{name}/rollouts");
            guard = list.RootElement.EnumerateArray().First(r => r.GetProperty("kind").GetString() == "guard").Clone();
            return guard.GetProperty("version").GetInt32() == v2 && guard.GetProperty("status").GetString() != "running";
        }, "the guard of version 2 decides");
        Assert.Equal("failed", guard.GetProperty("status").GetString());
        Assert.StartsWith($"rolled back to version {v1}: error rate 1 (", guard.GetProperty("reason").GetString());
        var (_, production) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production");
        Assert.Equal(v1, production.RootElement.GetProperty("version").GetInt32());
        var (_, history) = await GetJsonAsync(client, $"/v1/models/{name}/aliases/production/history");
        var rollback = history.RootElement.EnumerateArray().Last();
        Assert.Equal("rollback", rollback.GetProperty("kind").GetString());
        Assert.Equal("rollout-controller", rollback.GetProperty("actor").GetString());
        Assert.Equal(500, traffic.Answers.Keys.Where(k => !k.StartsWith('v')).Select(int.Parse).Distinct().Single());

        var errorsBefore = traffic.Count("500");
        var servedBefore = traffic.Count("v1");
        await EventuallyAsync(() => Task.FromResult(traffic.Count("v1") > servedBefore + 20), "version 1 serves again");
        Assert.True(traffic.Count("500") - errorsBefore < 50, "the rolled-back version stops failing requests");
        await EventuallyAsync(() => Task.FromResult(platform.Webhooks.Any(w => RolloutTests.IsAbout(w, name, "guard-rollback"))),
            "the webhook receives the guard's alert");
    }

    [Fact]
    public async Task AnErrorRateAlertFiresOnceAndResolvesWhenTheErrorsStop()
    {
        using var client = platform.CreateGatewayClient();
        var name = FeedbackFixture.AlertedModel;
        // Version 1 fails every valid request in ONNX Runtime (server errors, 500); version 2 is good.
        var (v1, _) = await RegisterAsync(client, name, "linear-faulty.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", v1);
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);

        for (var i = 0; i < 8; i++)
        {
            var (status, body, message) = await PostJsonAsync(client, $"/v2/models/{name}/infer",
                """{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}""");
            Assert.Equal(HttpStatusCode.InternalServerError, status);
            body.Dispose();
            message.Dispose();
        }
        JsonElement firing = default;
        await EventuallyAsync(async () =>
        {
            var (_, alerts) = await GetJsonAsync(reader, "/v1/alerts?status=firing");
            var found = alerts.RootElement.EnumerateArray().Where(a => a.GetProperty("alert").GetString() == "alerted-error-rate").ToList();
            if (found.Count == 1)
            {
                firing = found[0].Clone();
            }
            return found.Count == 1;
        }, "the error-rate alert fires");
        Assert.Equal(name, firing.GetProperty("model").GetString());
        Assert.Equal(v1, firing.GetProperty("version").GetInt32());
        Assert.Equal(1.0, firing.GetProperty("value").GetDouble());
        Assert.Equal(0.5, firing.GetProperty("threshold").GetDouble());

        await SetAliasAsync(client, name, "production", v2);
        await using (var traffic = Traffic.Start(client, name))
        {
            await EventuallyAsync(async () =>
            {
                var (_, alerts) = await GetJsonAsync(reader, "/v1/alerts?status=resolved");
                return alerts.RootElement.EnumerateArray().Any(a => a.GetProperty("alert").GetString() == "alerted-error-rate");
            }, "the alert resolves once the window holds only good requests");
        }

        var (_, all) = await GetJsonAsync(reader, "/v1/alerts");
        var ours = all.RootElement.EnumerateArray().Where(a => a.GetProperty("alert").GetString() == "alerted-error-rate").ToList();
        var resolved = Assert.Single(ours);
        Assert.Equal("resolved", resolved.GetProperty("status").GetString());
        Assert.True(resolved.GetProperty("value").GetDouble() <= 0.1);
        await EventuallyAsync(() => Task.FromResult(platform.Webhooks.Count(w => RolloutTests.IsAbout(w, name, "alerted-error-rate")) >= 2),
            "the webhook receives firing and resolved");
        var statuses = platform.Webhooks.Where(w => RolloutTests.IsAbout(w, name, "alerted-error-rate"))
            .Select(w => w.RootElement.GetProperty("status").GetString()).ToList();
        Assert.Equal(["firing", "resolved"], statuses);

        await AssertWebhookDeliveryIsBoundedAndCleanAsync(name, "alerted-error-rate");
    }

    /// <summary>
    /// The webhooks of one alert's two notifications: the working one saw no platform credential; the failing one got exactly
    /// MaxAttempts POSTs per notification (no retry handler multiplying them); the registry's log named it without path or query.
    /// </summary>
    private async Task AssertWebhookDeliveryIsBoundedAndCleanAsync(string model, string alert)
    {
        var headers = platform.Webhooks.Zip(platform.WebhookHeaders).Where(p => RolloutTests.IsAbout(p.First, model, alert)).Select(p => p.Second).ToList();
        Assert.Equal(2, headers.Count);
        Assert.All(headers, h => Assert.DoesNotContain(h, n => n.StartsWith("X-MlPlatform-", StringComparison.OrdinalIgnoreCase) || n == "Authorization"));

        var failingUrl = $"http://127.0.0.1:{platform.FailingWebhook.Port}/…";
        List<string> GaveUp() => platform.RegistryLogs.Lines
            .Where(l => l.Contains($"Webhook {failingUrl} for alert {alert} gave up after {FeedbackFixture.FailingWebhookMaxAttempts} attempts", StringComparison.Ordinal))
            .ToList();
        await EventuallyAsync(() => Task.FromResult(GaveUp().Count >= 2), "the registry gives up on the failing webhook for both notifications");
        var posts = platform.FailingWebhook.Received.Count(w => RolloutTests.IsAbout(w, model, alert));
        Assert.Equal(2 * FeedbackFixture.FailingWebhookMaxAttempts, posts);
        Assert.DoesNotContain(platform.RegistryLogs.Lines, l => l.Contains(FeedbackFixture.FailingWebhookToken, StringComparison.Ordinal) || l.Contains("/hooks/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AModelLoadFailureAlertFiresWhileAVersionCannotLoadAndResolvesWhenProductionMovesBack()
    {
        using var client = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var name = UniqueName("loadfail");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        // An artifact no other feedback test uses (blobs are shared by content): its stored bytes are damaged below.
        var (v2, sha2) = await RegisterAsync(client, name, "types.onnx");
        await SetAliasAsync(client, name, "production", v1);
        var blob = Path.Combine(platform.DataDir, "registry", "blobs", "sha256", sha2[..2], sha2);
        var bytes = await File.ReadAllBytesAsync(blob);
        bytes[^1] ^= 0xFF;
        File.SetAttributes(blob, FileAttributes.Normal);
        await File.WriteAllBytesAsync(blob, bytes);

        // Another signature than version 1's: both moves are forced past the contract check, since what is tested is the load failure.
        await SetAliasAsync(client, name, "production", v2, force: true);

        JsonElement firing = default;
        await EventuallyAsync(async () =>
        {
            var (_, alerts) = await GetJsonAsync(reader, "/v1/alerts?status=firing");
            var found = alerts.RootElement.EnumerateArray()
                .Where(a => a.GetProperty("alert").GetString() == "load-failures" && a.GetProperty("model").GetString() == name).ToList();
            firing = found.Count == 1 ? found[0].Clone() : default;
            return found.Count == 1;
        }, "the load-failure alert fires");
        Assert.Equal("critical", firing.GetProperty("severity").GetString());
        Assert.Equal(v2, firing.GetProperty("version").GetInt32());
        Assert.True(firing.GetProperty("value").GetDouble() >= 1);

        await SetAliasAsync(client, name, "production", v1, force: true);
        await EventuallyAsync(async () =>
        {
            var (_, alerts) = await GetJsonAsync(reader, "/v1/alerts?status=resolved");
            return alerts.RootElement.EnumerateArray()
                .Any(a => a.GetProperty("alert").GetString() == "load-failures" && a.GetProperty("model").GetString() == name);
        }, "the load-failure alert resolves once no load has failed for a window");
        await EventuallyAsync(() => Task.FromResult(platform.Webhooks.Count(w => RolloutTests.IsAbout(w, name, "load-failures")) >= 2),
            "the webhook receives firing and resolved");
    }

    [Fact]
    public async Task AlertsFilterByAnUnknownStatusIsRefused()
    {
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);

        using var response = await reader.GetAsync("/v1/alerts?status=burning").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("'status' is 'firing' or 'resolved'.", problem.RootElement.GetProperty("detail").GetString());
    }
}
