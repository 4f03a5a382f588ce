using System.Text.Json;
using MlPlatform.IntegrationTests.Feedback;
using MlPlatform.IntegrationTests.Online;
using static MlPlatform.IntegrationTests.Quality.QualityClient;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>The quality alert rules (drift, accuracy-drop, shadow-disagreement) fire through /v1/alerts and the webhooks like the others.</summary>
[Collection(FeedbackCollection.Name)]
public sealed class QualityAlertTests(FeedbackFixture platform)
{
    [Fact]
    public async Task DriftAccuracyDropAndShadowDisagreementAlertsFire()
    {
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);

        // Drift: the fixture's reference is the first 100 logged requests; then petal length moves by 3 cm.
        await ServeAsync(admin, FeedbackFixture.DriftingModel, withSwapped: false);
        await SendAsync(reader, $"/v2/models/{FeedbackFixture.DriftingModel}/infer", 100, 4, i => $"ref-{i}", QualityTests.IrisFlower);
        await ReadPayloadsAsync(operatorClient, FeedbackFixture.DriftingModel, 1, 100);
        await SendAsync(reader, $"/v2/models/{FeedbackFixture.DriftingModel}/infer", 100, 4, i => $"live-{i}",
            i => QualityTests.IrisFlower(i).Select((v, f) => f == 2 ? v + 3f : v).ToArray());

        // Shadow disagreement: every production request copied to the swapped version.
        await ServeAsync(admin, FeedbackFixture.ShadowedModel, withSwapped: true);
        await OnlineScorerClient.SetAliasAsync(admin, FeedbackFixture.ShadowedModel, "shadow", 2, weight: 100);
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            await SendAsync(reader, $"/v2/models/{FeedbackFixture.ShadowedModel}/infer", 30, 3, i => $"s-{Guid.NewGuid():N}", QualityTests.IrisFlower);
            return (await ReadPayloadsAsync(operatorClient, FeedbackFixture.ShadowedModel, 2, 0)).Count >= 30;
        }, "the swapped version receives shadow copies");

        // Accuracy drop: v1 labelled as production, then the swapped v2 promoted and labelled.
        await ServeAsync(admin, FeedbackFixture.LabelledModel, withSwapped: true);
        await SendAsync(reader, $"/v2/models/{FeedbackFixture.LabelledModel}/infer", 60, 4, i => $"v1-{i}", QualityTests.IrisFlower);
        await OnlineScorerClient.SetAliasAsync(admin, FeedbackFixture.LabelledModel, "production", 2);
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            await SendAsync(reader, $"/v2/models/{FeedbackFixture.LabelledModel}/infer", 1, 1, _ => $"probe-{Guid.NewGuid():N}", QualityTests.IrisFlower);
            return (await ReadPayloadsAsync(operatorClient, FeedbackFixture.LabelledModel, 2, 0)).Count > 0;
        }, "version 2 serves production");
        await SendAsync(reader, $"/v2/models/{FeedbackFixture.LabelledModel}/infer", 60, 4, i => $"v2-{i}", QualityTests.IrisFlower);
        await ReadPayloadsAsync(operatorClient, FeedbackFixture.LabelledModel, 1, 60);
        await ReadPayloadsAsync(operatorClient, FeedbackFixture.LabelledModel, 2, 60);
        var labels = string.Join('\n', Enumerable.Range(0, 60).SelectMany(i => new[]
        {
            Invariant($$"""{"id":"v1-{{i}}","label":"{{QualityTests.Species[i % 3]}}"}"""),
            Invariant($$"""{"id":"v2-{{i}}","label":"{{QualityTests.Species[i % 3]}}"}"""),
        }));
        using (var feedback = await operatorClient.PostAsync($"/v1/models/{FeedbackFixture.LabelledModel}/feedback",
            new StringContent(labels, System.Text.Encoding.UTF8, "application/x-ndjson")).WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.OK, feedback.StatusCode);
        }

        await AssertFiresAsync(admin, "quality-drift", FeedbackFixture.DriftingModel, 1, "drifted");
        await AssertFiresAsync(admin, "quality-shadow-disagreement", FeedbackFixture.ShadowedModel, 2, "disagrees");
        await AssertFiresAsync(admin, "quality-accuracy-drop", FeedbackFixture.LabelledModel, 2, "below its baseline");
    }

    private static async Task ServeAsync(HttpClient admin, string name, bool withSwapped)
    {
        var version = await RegistryTestSupport.RegisterAsync(admin, name, await File.ReadAllBytesAsync(RegistryTestSupport.IrisModel));
        if (withSwapped)
        {
            await RegistryTestSupport.RegisterAsync(admin, name, await File.ReadAllBytesAsync(OnlineScorerClient.ModelPath("iris-swapped.onnx")));
        }
        await OnlineScorerClient.SetServingAsync(admin, name, new
        {
            payloadLog = new { enabled = true, sampleRate = 1.0 },
            quality = new { task = "classification", output = "Score.output", labels = QualityTests.Species },
        });
        await OnlineScorerClient.SetAliasAsync(admin, name, "production", version);
    }

    private async Task AssertFiresAsync(HttpClient client, string rule, string model, int version, string message)
    {
        JsonElement alert = default;
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            using var response = await client.GetAsync("/v1/alerts?status=firing").WaitAsync(PlatformFixture.RequestTimeout);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var found = json.RootElement.EnumerateArray().FirstOrDefault(a => a.GetProperty("alert").GetString() == rule
                && a.TryGetProperty("model", out var m) && m.GetString() == model && a.GetProperty("version").GetInt32() == version);
            alert = found.ValueKind == JsonValueKind.Undefined ? default : found.Clone();
            return found.ValueKind != JsonValueKind.Undefined;
        }, $"the {rule} alert fires for {model} version {version}");
        Assert.Contains(message, alert.GetRawText());
        await OnlineScorerClient.EventuallyAsync(() => Task.FromResult(platform.Webhooks.Any(w => w.RootElement.GetRawText().Contains(rule, StringComparison.Ordinal)
            && w.RootElement.GetRawText().Contains(model, StringComparison.Ordinal))), $"the webhook hears of the {rule} alert");
    }
}
