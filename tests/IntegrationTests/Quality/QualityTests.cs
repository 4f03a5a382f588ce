using System.Text;
using System.Text.Json;
using MlPlatform.IntegrationTests.Online;
using static MlPlatform.IntegrationTests.Quality.QualityClient;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>Ground truth joined with the payload log: a version with two classes swapped shows its accuracy drop against production.</summary>
[Collection(PlatformCollection.Name)]
public sealed class QualityTests(PlatformFixture platform)
{
    [Fact]
    public async Task FeedbackLabelsShowTheSwappedVersionsAccuracyDropAgainstProduction()
    {
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var name = await ServeIrisWithSwappedVersionAsync(admin);

        // Production (v1) answers routed traffic, v2 is asked by number: 30 flowers of each species for each.
        await SendAsync(reader, $"/v2/models/{name}/infer", 90, 6, i => $"v1-{i}", IrisFlower);
        await SendAsync(reader, $"/v2/models/{name}/versions/2/infer", 90, 6, i => $"v2-{i}", IrisFlower);
        await ReadPayloadsAsync(operatorClient, name, 1, 90);
        await ReadPayloadsAsync(operatorClient, name, 2, 90);

        // JSON lines for v1, a JSON array for v2; one more label for an id nobody logged.
        var lines = string.Join('\n', Enumerable.Range(0, 90).Select(i => Invariant($$"""{"id":"v1-{{i}}","label":"{{Species[i % 3]}}"}""")));
        var v1Result = await PostFeedbackAsync(operatorClient, name, lines, "application/x-ndjson");
        Assert.Equal(90, v1Result.GetProperty("accepted").GetInt32());
        Assert.Equal(0, v1Result.GetProperty("unknown").GetInt32());
        var array = "[" + string.Join(",\n", Enumerable.Range(0, 90).Select(i => Invariant($$"""{"id":"v2-{{i}}","label":{{i % 3}}}""")))
            + Invariant($$""",{"id":"never-logged","label":"setosa","at":"2026-12-01T10:00:00Z"}]""");
        var v2Result = await PostFeedbackAsync(operatorClient, name, array, "application/json");
        Assert.Equal(91, v2Result.GetProperty("accepted").GetInt32());
        Assert.Equal(1, v2Result.GetProperty("unknown").GetInt32());

        var quality = await GetQualityAsync(reader, name, 2);
        var figures = quality.GetProperty("figures");
        Assert.Equal(90, figures.GetProperty("logged").GetInt32());
        Assert.Equal(90, figures.GetProperty("labelled").GetInt32());
        Assert.Equal(1.0, figures.GetProperty("coverage").GetDouble());
        // Setosa and versicolor are swapped: only the virginica third is right.
        Assert.InRange(figures.GetProperty("accuracy").GetDouble(), 0.25, 0.45);
        Assert.Equal(JsonValueKind.Null, figures.GetProperty("mae").ValueKind);
        Assert.Equal(1, quality.GetProperty("baselineVersion").GetInt32());
        Assert.InRange(quality.GetProperty("baseline").GetProperty("accuracy").GetDouble(), 0.9, 1.0);
        Assert.Equal("1h", quality.GetProperty("window").GetString());

        // A repeated id replaces its label: relabelling v2's first setosa as what v2 answered (versicolor) makes it right.
        var relabel = await PostFeedbackAsync(operatorClient, name, """[{"id":"v2-0","label":"versicolor"}]""", "application/json");
        Assert.Equal(1, relabel.GetProperty("replaced").GetInt32());
        var after = (await GetQualityAsync(reader, name, 2)).GetProperty("figures").GetProperty("accuracy").GetDouble();
        Assert.Equal(figures.GetProperty("accuracy").GetDouble() + 1.0 / 90, after, 6);
    }

    [Fact]
    public async Task BadFeedbackIsRefusedWithItsLineAndAMalformedArrayStoresNothing()
    {
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var name = await ServeIrisWithSwappedVersionAsync(admin);
        await SendAsync(reader, $"/v2/models/{name}/infer", 3, 3, i => $"r-{i}", IrisFlower);
        await ReadPayloadsAsync(operatorClient, name, 1, 3);
        await PostFeedbackAsync(operatorClient, name, """[{"id":"r-0","label":"setosa"},{"id":"r-1","label":"versicolor"}]""", "application/json");
        Assert.Equal(1.0, (await GetQualityAsync(reader, name, 1)).GetProperty("figures").GetProperty("accuracy").GetDouble());

        // A valid item that would make r-0 wrong, then a malformed one: nothing is stored.
        await AssertRefusedAsync(operatorClient, name, "[\n{\"id\":\"r-0\",\"label\":\"virginica\"},\n{\"id\":\"r-1\",\"label\":\n", "line 4");
        await AssertRefusedAsync(operatorClient, name, "[\n{\"id\":\"r-0\",\"label\":\"virginica\"},\n{\"id\":\"r-1\",\"label\":{\"class\":1}}]", "line 3 (item 2): 'label' must be");
        await AssertRefusedAsync(operatorClient, name, "{\"id\":\"r-0\",\"label\":\"virginica\"}\n\n{\"id\":\"r-1\" \"label\":1}", "line 3: malformed JSON");
        await AssertRefusedAsync(operatorClient, name, "{\"id\":\"r-0\",\"label\":\"virginica\"}\n{\"label\":1}", "line 2: 'id'");
        await AssertRefusedAsync(operatorClient, name, "{\"id\":\"r-0\",\"label\":true}", "line 1: 'label' must be");
        await AssertRefusedAsync(operatorClient, name, "{\"id\":\"r-0\",\"label\":1,\"at\":\"tuesday\"}", "'at'");
        Assert.Equal(1.0, (await GetQualityAsync(reader, name, 1)).GetProperty("figures").GetProperty("accuracy").GetDouble());

        // Readers may read quality but not send labels; a model without quality settings says what to set.
        using (var refused = await reader.PostAsync($"/v1/models/{name}/feedback", new StringContent("[]", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        var plain = await ServeIrisAsync(admin, "no-quality", new { enabled = true });
        using var unset = await reader.GetAsync($"/v1/models/{plain}/versions/1/quality").WaitAsync(PlatformFixture.RequestTimeout);
        await RegistryTestSupport.AssertProblemAsync(unset, HttpStatusCode.Conflict, "no quality settings");
        using var badWindow = await reader.GetAsync($"/v1/models/{name}/versions/1/quality?window=forever").WaitAsync(PlatformFixture.RequestTimeout);
        await RegistryTestSupport.AssertProblemAsync(badWindow, HttpStatusCode.BadRequest, "'window'");
        using var badTask = await admin.PutAsJsonAsync($"/v1/models/{name}/serving",
            new { quality = new { task = "ranking", output = "Score.output" } }).WaitAsync(PlatformFixture.RequestTimeout);
        await RegistryTestSupport.AssertProblemAsync(badTask, HttpStatusCode.BadRequest, "quality.task");
        using var badOutput = await admin.PutAsJsonAsync($"/v1/models/{name}/serving",
            new { quality = new { task = "classification", output = "Scores" } }).WaitAsync(PlatformFixture.RequestTimeout);
        await RegistryTestSupport.AssertProblemAsync(badOutput, HttpStatusCode.BadRequest, "'Scores' is not an output of any version");
    }

    internal static readonly string[] Species = ["setosa", "versicolor", "virginica"];

    /// <summary>Flower <paramref name="i"/> of species <c>i % 3</c>, near that species' means (Fisher's iris), a little apart from the others.</summary>
    internal static float[] IrisFlower(int i)
    {
        float[][] means = [[5.0f, 3.4f, 1.5f, 0.2f], [5.9f, 2.8f, 4.3f, 1.3f], [6.6f, 3.0f, 5.6f, 2.1f]];
        var jitter = (i / 3 % 5 - 2) * 0.05f;
        return means[i % 3].Select(v => v + jitter).ToArray();
    }

    internal static async Task<string> ServeIrisWithSwappedVersionAsync(HttpClient admin, double sampleRate = 1.0)
    {
        var name = await ServeIrisAsync(admin, "quality", new { enabled = true, sampleRate });
        await RegistryTestSupport.RegisterAsync(admin, name, await File.ReadAllBytesAsync(OnlineScorerClient.ModelPath("iris-swapped.onnx")));
        await OnlineScorerClient.SetServingAsync(admin, name, new
        {
            payloadLog = new { enabled = true, sampleRate },
            quality = new { task = "classification", output = "Score.output", labels = Species },
        });
        return name;
    }

    private static async Task<JsonElement> PostFeedbackAsync(HttpClient client, string name, string body, string mediaType)
    {
        using var response = await client.PostAsync($"/v1/models/{name}/feedback", new StringContent(body, Encoding.UTF8, mediaType))
            .WaitAsync(PlatformFixture.RequestTimeout);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"feedback: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task AssertRefusedAsync(HttpClient client, string name, string body, string detail)
    {
        using var response = await client.PostAsync($"/v1/models/{name}/feedback", new StringContent(body, Encoding.UTF8, "application/json"))
            .WaitAsync(PlatformFixture.RequestTimeout);
        await RegistryTestSupport.AssertProblemAsync(response, HttpStatusCode.BadRequest, detail);
    }

    internal static async Task<JsonElement> GetQualityAsync(HttpClient client, string name, int version, string window = "1h")
    {
        using var response = await client.GetAsync($"/v1/models/{name}/versions/{version}/quality?window={window}").WaitAsync(PlatformFixture.RequestTimeout);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"quality: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
