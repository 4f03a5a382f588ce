using System.Diagnostics;
using System.Text.Json;
using MlPlatform.IntegrationTests.Batch;
using MlPlatform.IntegrationTests.Feedback;
using MlPlatform.IntegrationTests.Online;
using Xunit.Abstractions;
using static MlPlatform.IntegrationTests.Quality.QualityClient;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>
/// A drift reference from a batch job: the batch scorer profiles a succeeded job's input for the version's signature and the registry
/// measures live traffic against it (the feedback fixture's <c>quality-drift-batch-reference</c> rule watches the shifted model).
/// </summary>
[Collection(FeedbackCollection.Name)]
public sealed class DriftReferenceTests(FeedbackFixture platform, ITestOutputHelper output)
{
    private const int ReferenceRows = 500;

    // Iris's ML.NET export has an output batch jobs cannot carry (mlnet.Score.unusedOutput, [1, 1] whatever the rows): keep the scores.
    private static readonly string[] Outputs = ["Score.output"];

    [Fact]
    public async Task ABatchJobsInputIsTheReferenceShiftedTrafficDriftsAndAlertsUnshiftedStaysStable()
    {
        var clock = Stopwatch.StartNew();
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var shifted = FeedbackFixture.ReferencedModel;
        await ServeAsync(admin, shifted);
        var steady = await ServeIrisAsync(admin, "steady-ref", new { enabled = true, sampleRate = 1.0 });

        // The reference distribution, scored as a batch job by the operator.
        var batch = new BatchTestClient(operatorClient);
        var rows = string.Join('\n', Enumerable.Range(0, ReferenceRows).Select(i => Row(DriftTests.Spread(i, 0f))));
        using var submitted = await batch.SubmitJsonAsync(new { model = shifted, version = 1, outputs = Outputs, input = new { format = "jsonl", data = rows } });
        var jobId = await BatchTestClient.AcceptedIdAsync(submitted);
        await batch.WaitForStatusAsync(jobId, "succeeded");

        // Refusals: no job id, an unknown job, a job that failed, a job whose rows do not fit the signature, and a reader.
        await AssertRefusedAsync(operatorClient, shifted, new { }, HttpStatusCode.BadRequest, "'jobId'");
        // Bodies the framework's binding threw on (a bare 500 before): each a 400 saying what is wrong.
        foreach (var (raw, detail) in new[] { ("garbage", "not valid JSON"), ("{\"jobId\":5}", "'jobId' must be a string"), ("[]", "must be a JSON object"),
            ("{\"jobId\":\"" + jobId[..4], "not valid JSON") })
        {
            using var content = new StringContent(raw, System.Text.Encoding.UTF8, "application/json");
            using var response = await operatorClient.PostAsync($"/v1/models/{shifted}/versions/1/reference", content).WaitAsync(PlatformFixture.RequestTimeout);
            await RegistryTestSupport.AssertProblemAsync(response, HttpStatusCode.BadRequest, detail);
        }
        await AssertRefusedAsync(operatorClient, shifted, new { jobId = "nosuchjob0" }, HttpStatusCode.NotFound, "nosuchjob0");
        using (var failing = await batch.SubmitJsonAsync(new { model = shifted, version = 1, outputs = Outputs, failFast = true,
            input = new { format = "jsonl", data = "{\"input\":[1,2,3,4]}\n{\"input\":\"x\"}" } }))
        {
            var failedId = await BatchTestClient.AcceptedIdAsync(failing);
            await batch.WaitForStatusAsync(failedId, "failed");
            await AssertRefusedAsync(operatorClient, shifted, new { jobId = failedId }, HttpStatusCode.Conflict, "is failed");
        }
        using (var misfit = await batch.SubmitJsonAsync(new { model = shifted, version = 1, outputs = Outputs,
            input = new { format = "jsonl", data = "{\"features\":[1,2,3,4]}\n{\"features\":[5,6,7,8]}" } }))
        {
            var misfitId = await BatchTestClient.AcceptedIdAsync(misfit);
            await batch.WaitForStatusAsync(misfitId, "succeeded");
            await AssertRefusedAsync(operatorClient, shifted, new { jobId = misfitId }, HttpStatusCode.BadRequest, "'input'");
        }
        using (var forbidden = await reader.PostAsJsonAsync($"/v1/models/{shifted}/versions/1/reference", new { jobId }).WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        // One job's input becomes the reference of both models (the same signature).
        foreach (var name in new[] { shifted, steady })
        {
            using var response = await operatorClient.PostAsJsonAsync($"/v1/models/{name}/versions/1/reference", new { jobId }).WaitAsync(PlatformFixture.RequestTimeout);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"reference: {(int)response.StatusCode} {text}");
            using var profile = JsonDocument.Parse(text);
            Assert.Equal(ReferenceRows, profile.RootElement.GetProperty("rows").GetInt64());
            Assert.Equal(["input[0]", "input[1]", "input[2]", "input[3]"],
                profile.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("feature").GetString()));
        }

        // The registry keeps it (readers may look at it; the registry-side path is the batch scorer's to write, admin through the gateway).
        var (storedStatus, stored) = await OnlineScorerClient.GetJsonAsync(reader, $"/v1/models/{shifted}/versions/1/reference/profile");
        Assert.Equal(HttpStatusCode.OK, storedStatus);
        Assert.Equal(jobId, stored.RootElement.GetProperty("jobId").GetString());
        using (var notAdmin = await operatorClient.PutAsJsonAsync($"/v1/models/{shifted}/versions/1/reference/profile", stored.RootElement)
            .WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.Forbidden, notAdmin.StatusCode);
        }

        await Task.WhenAll(
            SendAsync(reader, $"/v2/models/{shifted}/infer", 300, 4, i => $"live-{i}", i => DriftTests.Spread(ReferenceRows + i, 3f)),
            SendAsync(reader, $"/v2/models/{steady}/infer", 300, 4, i => $"live-{i}", i => DriftTests.Spread(ReferenceRows + i, 0f)));
        await ReadPayloadsAsync(operatorClient, shifted, 1, 300);
        await ReadPayloadsAsync(operatorClient, steady, 1, 300);

        var drift = await DriftTests.DriftAsync(reader, shifted);
        Assert.Equal($"batch-job:{jobId}", drift.GetProperty("referenceSource").GetString());
        Assert.Equal(ReferenceRows, drift.GetProperty("referenceRecords").GetInt32());
        Assert.Equal(300, drift.GetProperty("liveRecords").GetInt32());
        Assert.True(drift.GetProperty("maxPsi").GetDouble() > 0.2, drift.ToString());
        Assert.Equal("input[2]", drift.GetProperty("features")[0].GetProperty("feature").GetString());
        var stable = await DriftTests.DriftAsync(reader, steady);
        Assert.Equal(300, stable.GetProperty("liveRecords").GetInt32());
        Assert.True(stable.GetProperty("maxPsi").GetDouble() < 0.1, stable.ToString());

        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            using var response = await reader.GetAsync("/v1/alerts?status=firing").WaitAsync(PlatformFixture.RequestTimeout);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return json.RootElement.EnumerateArray().Any(a => a.GetProperty("alert").GetString() == "quality-drift-batch-reference"
                && a.TryGetProperty("model", out var m) && m.GetString() == shifted);
        }, "the drift alert fires for the shifted model");
        output.WriteLine($"drift reference from a batch job: shifted PSI {drift.GetProperty("maxPsi").GetDouble():0.###}, steady {stable.GetProperty("maxPsi").GetDouble():0.###}; {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private static string Row(float[] flower) => "{\"input\":[" + string.Join(",", flower.Select(v => Invariant($"{v}"))) + "]}";

    private static async Task ServeAsync(HttpClient admin, string name)
    {
        var version = await RegistryTestSupport.RegisterAsync(admin, name, await File.ReadAllBytesAsync(RegistryTestSupport.IrisModel));
        await OnlineScorerClient.SetServingAsync(admin, name, new { payloadLog = new { enabled = true, sampleRate = 1.0 } });
        await OnlineScorerClient.SetAliasAsync(admin, name, "production", version);
    }

    private static async Task AssertRefusedAsync(HttpClient client, string name, object body, HttpStatusCode status, string detail)
    {
        using var response = await client.PostAsJsonAsync($"/v1/models/{name}/versions/1/reference", body).WaitAsync(PlatformFixture.RequestTimeout);
        await RegistryTestSupport.AssertProblemAsync(response, status, detail);
    }
}
