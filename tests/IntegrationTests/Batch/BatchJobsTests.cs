using System.Text.Json;

namespace MlPlatform.IntegrationTests.Batch;

[Collection(PlatformCollection.Name)]
public sealed class BatchJobsTests(PlatformFixture platform)
{
    private const string LinearModel = "batch-linear.onnx";

    private BatchTestClient Client() => new(platform.CreateGatewayClient());

    [Fact]
    public async Task HundredThousandRowJsonlJobMatchesInProcessOnnxRuntimeRowForRowInOrder()
    {
        const int rows = 100_000;
        var batch = Client();
        var name = BatchTestClient.UniqueName("batch-big");
        var (version, sha256) = await batch.RegisterAsync(name, LinearModel);
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, outputs = new[] { "probabilities" } }, rows);

        var job = await batch.WaitForStatusAsync(id, "succeeded");

        Assert.Equal(rows, job.GetProperty("rowsTotal").GetInt64());
        Assert.Equal(rows, job.GetProperty("rowsDone").GetInt64());
        Assert.Equal(0, job.GetProperty("rowsFailed").GetInt64());
        Assert.Equal(100, job.GetProperty("chunksTotal").GetInt32());
        Assert.Equal(100, job.GetProperty("chunksDone").GetInt32());
        Assert.Equal(version, job.GetProperty("version").GetInt32());
        Assert.Equal(sha256, job.GetProperty("sha256").GetString());
        Assert.Equal("production", job.GetProperty("alias").GetString());
        Assert.True(job.GetProperty("rowsPerSecond").GetDouble() > 0);
        Assert.True(job.TryGetProperty("finishedAt", out _));

        var (response, body) = await batch.GetResultsAsync(id);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/jsonl", response.Content.Headers.ContentType?.MediaType);
        var expected = BatchTestClient.ExpectedOutputs(LinearModel, "probabilities", rows);
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(rows, lines.Length);
        for (var i = 0; i < rows; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            Assert.Equal(i, line.RootElement.GetProperty("row").GetInt64());
            var outputs = line.RootElement.GetProperty("outputs");
            Assert.False(outputs.TryGetProperty("logits", out _));
            var actual = outputs.GetProperty("probabilities").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            BatchTestClient.AssertClose(expected[i], actual, i);
        }
    }

    [Fact]
    public async Task CsvJobWithAHeaderReportsBadRowsInPlaceAndStreamsCsvResults()
    {
        var batch = Client();
        var name = BatchTestClient.UniqueName("batch-csv");
        await batch.RegisterAsync(name, LinearModel);
        var lines = new List<string> { "f0,f1,f2,f3,f4,f5,f6,f7" };
        lines.AddRange(Enumerable.Range(0, 250).Select(i => i switch
        {
            17 => "1,2,3",
            123 => "1,2,3,4,5,6,7,oops",
            _ => BatchTestClient.CsvRow(i),
        }));

        using var submitted = await batch.SubmitJsonAsync(new { model = name, input = new { format = "csv", data = string.Join("\r\n", lines) }, chunkSize = 100 });
        var id = await BatchTestClient.AcceptedIdAsync(submitted);
        var job = await batch.WaitForStatusAsync(id, "succeeded");

        Assert.Equal(250, job.GetProperty("rowsTotal").GetInt64());
        Assert.Equal(250, job.GetProperty("rowsDone").GetInt64());
        Assert.Equal(2, job.GetProperty("rowsFailed").GetInt64());
        Assert.Equal(3, job.GetProperty("chunksTotal").GetInt32());

        var (jsonlResponse, jsonl) = await batch.GetResultsAsync(id);
        var results = jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Enumerable.Range(0, 250), results.Select(r => r.GetProperty("row").GetInt32()));
        Assert.Equal("Expected 8 columns, found 3.", results[17].GetProperty("error").GetString());
        Assert.Equal("Column 8: 'oops' is not a valid FP32 value.", results[123].GetProperty("error").GetString());
        var expected = BatchTestClient.ExpectedOutputs(LinearModel, "logits", 250);
        BatchTestClient.AssertClose(expected[18], results[18].GetProperty("outputs").GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray(), 18);

        var (csvResponse, csv) = await batch.GetResultsAsync(id, accept: "text/csv");
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType?.MediaType);
        var csvLines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal("row,logits_0,logits_1,logits_2,probabilities_0,probabilities_1,probabilities_2,error", csvLines[0]);
        Assert.Equal(251, csvLines.Count);
        Assert.Equal("17,,,,,,,\"Expected 8 columns, found 3.\"", csvLines[18]);
        var row18 = csvLines[19].Split(',');
        Assert.Equal("18", row18[0]);
        Assert.Equal("", row18[^1]);
        Assert.Equal(expected[18][0], float.Parse(row18[1], System.Globalization.CultureInfo.InvariantCulture), 1e-5f);
        var (_, csvByQuery) = await batch.GetResultsAsync(id, format: "csv");
        Assert.Equal(csv, csvByQuery);
    }

    [Fact]
    public async Task FailFastJobFailsAtItsFirstBadRowWithTheRowInTheError()
    {
        var batch = Client();
        var name = BatchTestClient.UniqueName("batch-failfast");
        await batch.RegisterAsync(name, LinearModel);
        var data = string.Join("\n", Enumerable.Range(0, 40).Select(i => i == 25 ? "{\"input\":\"x\"}" : BatchTestClient.JsonlRow(i)));

        using var submitted = await batch.SubmitJsonAsync(new { model = name, input = new { format = "jsonl", data }, chunkSize = 10, failFast = true });
        var id = await BatchTestClient.AcceptedIdAsync(submitted);
        var job = await batch.WaitForStatusAsync(id, "failed");

        Assert.True(job.GetProperty("failFast").GetBoolean());
        Assert.Equal("Row 25 cannot be scored (failFast): Input 'input': expected an array of 8 at nesting level 1, found a string (row shape [8]).",
            job.GetProperty("error").GetString());
    }

    [Fact]
    public async Task JobsPinTheVersionTheirAliasNamedAtSubmission()
    {
        var batch = Client();
        var name = BatchTestClient.UniqueName("batch-pin");
        var (v1, sha1) = await batch.RegisterAsync(name, LinearModel);
        var (v2, _) = await batch.RegisterAsync(name, "batch-poison.onnx", promote: false);
        await batch.SetAliasAsync(name, "canary", v2);

        using var byAlias = await batch.SubmitJsonAsync(new { model = name, alias = "canary", input = new { format = "jsonl", data = BatchTestClient.JsonlRow(0) } });
        var canaryJob = await batch.GetJobAsync(await BatchTestClient.AcceptedIdAsync(byAlias));
        using var byDefault = await batch.SubmitJsonAsync(new { model = name, input = new { format = "jsonl", data = BatchTestClient.JsonlRow(0) } });
        var defaultId = await BatchTestClient.AcceptedIdAsync(byDefault);
        await batch.SetAliasAsync(name, "production", v2);
        var defaultJob = await batch.WaitForStatusAsync(defaultId, "succeeded");

        Assert.Equal(v2, canaryJob.GetProperty("version").GetInt32());
        Assert.Equal("canary", canaryJob.GetProperty("alias").GetString());
        Assert.Equal(v1, defaultJob.GetProperty("version").GetInt32());
        Assert.Equal(sha1, defaultJob.GetProperty("sha256").GetString());
        var (_, results) = await batch.GetResultsAsync(defaultId);
        using var line = JsonDocument.Parse(results.Trim());
        Assert.False(line.RootElement.GetProperty("outputs").TryGetProperty("check", out _), "v1 has no 'check' output; the job must not follow the alias to v2");
    }

    [Fact]
    public async Task CancelledJobStartsNoNewChunkAndKeepsItsPartialResultsReadable()
    {
        var batch = Client();
        var name = BatchTestClient.UniqueName("batch-cancel");
        await batch.RegisterAsync(name, LinearModel);
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 10 }, 100_000);
        await batch.WaitForAsync(id, j => j.GetProperty("chunksDone").GetInt32() > 0);

        using var cancelled = await batch.Http.DeleteAsync($"/v1/batch/jobs/{id}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        using var cancelledBody = JsonDocument.Parse(await cancelled.Content.ReadAsStringAsync());
        Assert.Equal("cancelled", cancelledBody.RootElement.GetProperty("status").GetString());

        // Chunks in hand when the job was cancelled may still finish; after that nothing moves.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var settled = await batch.GetJobAsync(id);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var later = await batch.GetJobAsync(id);
        Assert.Equal("cancelled", later.GetProperty("status").GetString());
        Assert.Equal(settled.GetProperty("rowsDone").GetInt64(), later.GetProperty("rowsDone").GetInt64());
        Assert.True(later.GetProperty("rowsDone").GetInt64() < 100_000);
        Assert.True(later.TryGetProperty("finishedAt", out _));

        var (response, body) = await batch.GetResultsAsync(id);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rows = body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("row").GetInt64()).ToList();
        Assert.Equal(later.GetProperty("rowsDone").GetInt64(), rows.Count);
        Assert.Equal(rows.Order(), rows);

        // A DELETE of the finished job removes it, input and results included.
        using var again = await batch.Http.DeleteAsync($"/v1/batch/jobs/{id}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        using var gone = await batch.Http.GetAsync($"/v1/batch/jobs/{id}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(platform.DataDir, "batch", "jobs", id)), "The removed job's folder is still there.");
        using var third = await batch.Http.DeleteAsync($"/v1/batch/jobs/{id}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, third.StatusCode);
    }

    [Fact]
    public async Task OperatorsWorkOnlyWithTheJobsTheirKeySubmittedAdminsWithAllAndReadersWithNone()
    {
        var admin = Client();
        var operatorClient = new BatchTestClient(platform.CreateGatewayClient(PlatformFixture.OperatorApiKey));
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var name = BatchTestClient.UniqueName("batch-owner");
        await admin.RegisterAsync(name, LinearModel);
        var spec = new { model = name, input = new { format = "jsonl" }, chunkSize = 10 };
        var ours = await operatorClient.SubmitRowsAsync(spec, 20);
        var theirs = await admin.SubmitRowsAsync(spec, 20);
        await admin.WaitForStatusAsync(ours, "succeeded");
        await admin.WaitForStatusAsync(theirs, "succeeded");

        var operatorJobs = await ListIdsAsync(operatorClient.Http);
        var adminJobs = await ListIdsAsync(admin.Http);
        Assert.Contains(ours, operatorJobs);
        Assert.DoesNotContain(theirs, operatorJobs);
        Assert.Contains(ours, adminJobs);
        Assert.Contains(theirs, adminJobs);
        Assert.Equal((await admin.GetJobAsync(ours)).GetProperty("submittedBy").GetString(), (await operatorClient.GetJobAsync(ours)).GetProperty("submittedBy").GetString());
        Assert.NotEqual((await admin.GetJobAsync(ours)).GetProperty("submittedBy").GetString(), (await admin.GetJobAsync(theirs)).GetProperty("submittedBy").GetString());

        // Another key's job is answered like a job that does not exist, for reads, results and deletes.
        foreach (var (method, path) in new[] { ("GET", $"/v1/batch/jobs/{theirs}"), ("GET", $"/v1/batch/jobs/{theirs}/results"), ("DELETE", $"/v1/batch/jobs/{theirs}") })
        {
            using var response = await operatorClient.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)).WaitAsync(PlatformFixture.RequestTimeout);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        using (var readerList = await reader.GetAsync("/v1/batch/jobs").WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.Forbidden, readerList.StatusCode);
        }
        Assert.Equal("succeeded", (await admin.GetJobAsync(theirs)).GetProperty("status").GetString());

        // An admin may remove any finished job; the owner its own.
        using var removedByOwner = await operatorClient.Http.DeleteAsync($"/v1/batch/jobs/{ours}").WaitAsync(PlatformFixture.RequestTimeout);
        using var removedByAdmin = await admin.Http.DeleteAsync($"/v1/batch/jobs/{theirs}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.NoContent, removedByOwner.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, removedByAdmin.StatusCode);
        Assert.DoesNotContain(ours, await ListIdsAsync(operatorClient.Http));
    }

    [Fact]
    public async Task AMultipartSpecPartOverItsCapIsRefusedWith413AndLeavesNoFolder()
    {
        var batch = Client();
        var foldersBefore = JobFolders();
        var spec = $$"""{"model":"x","input":{"format":"jsonl"},"padding":"{{new string('a', 10 * 1024 * 1024)}}"}""";
        using var form = new MultipartFormDataContent
        {
            { new StringContent(spec, System.Text.Encoding.UTF8, "application/json"), "spec" },
            { new StringContent("{\"features\":[1,2,3,4,5,6,7,8]}\n"), "input", "rows.jsonl" },
        };

        using var response = await batch.Http.PostAsync("/v1/batch/jobs", form).WaitAsync(PlatformFixture.RequestTimeout);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("The 'spec' part is larger than 65536 bytes (BatchJobOptions:MaxSpecBytes); send the input as the 'input' part.",
            BatchTestClient.Problem(body).GetProperty("detail").GetString());
        Assert.Equal(foldersBefore, JobFolders());
    }

    [Fact]
    public async Task AnUploadTheClientCutsOffLeavesNoJobFolder()
    {
        var batch = Client();
        var foldersBefore = JobFolders();
        using var cut = new CancellationTokenSource();
        var sent = new TaskCompletionSource();
        using var form = new MultipartFormDataContent
        {
            { new StringContent("""{"model":"x","input":{"format":"jsonl"}}""", System.Text.Encoding.UTF8, "application/json"), "spec" },
            { new StalledContent(sent), "input", "rows.jsonl" },
        };

        var upload = batch.Http.PostAsync("/v1/batch/jobs", form, cut.Token);
        await sent.Task.WaitAsync(PlatformFixture.RequestTimeout);
        await Online.OnlineScorerClient.EventuallyAsync(() => Task.FromResult(JobFolders().Count > foldersBefore.Count), "the upload reaches the batch scorer's data folder");
        await cut.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upload);

        await Online.OnlineScorerClient.EventuallyAsync(() => Task.FromResult(JobFolders().SetEquals(foldersBefore)), "the cut-off upload's folder is removed");
    }

    private HashSet<string> JobFolders()
    {
        var jobs = Path.Combine(platform.DataDir, "batch", "jobs");
        return Directory.Exists(jobs) ? Directory.EnumerateDirectories(jobs).Select(Path.GetFileName).OfType<string>().ToHashSet() : [];
    }

    private static async Task<List<string>> ListIdsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/v1/batch/jobs?pageSize=500").WaitAsync(PlatformFixture.RequestTimeout);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        using var page = JsonDocument.Parse(text);
        return page.RootElement.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()!).ToList();
    }

    /// <summary>1 MiB of rows, then nothing until the request is cancelled: an upload the client gives up on.</summary>
    private sealed class StalledContent(TaskCompletionSource sent) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var row = "{\"features\":[1,2,3,4,5,6,7,8]}\n"u8.ToArray();
            for (var written = 0; written < 1 << 20; written += row.Length)
            {
                await stream.WriteAsync(row, cancellationToken);
            }
            await stream.FlushAsync(cancellationToken);
            sent.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task ResultsAreReadableInInputOrderWhileTheJobRuns()
    {
        var batch = Client();
        var name = BatchTestClient.UniqueName("batch-midjob");
        await batch.RegisterAsync(name, LinearModel);
        var id = await batch.SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 10 }, 100_000);
        await batch.WaitForAsync(id, j => j.GetProperty("chunksDone").GetInt32() >= 5);

        var (response, body) = await batch.GetResultsAsync(id);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("running", response.Headers.GetValues("X-Job-Status").Single());
        var rows = body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("row").GetInt64()).ToList();
        Assert.InRange(rows.Count, 50, 99_999);
        Assert.Equal(rows.Count, rows.Distinct().Count());
        Assert.Equal(rows.Order(), rows);
        Assert.All(rows.Chunk(10), chunk => Assert.Equal(chunk[0] + 9, chunk[^1]));

        using var cancel = await batch.Http.DeleteAsync($"/v1/batch/jobs/{id}").WaitAsync(PlatformFixture.RequestTimeout);
    }

    [Fact]
    public async Task ListedJobsArePagedNewestFirstAndFilteredByStatus()
    {
        var batch = Client();
        var name = BatchTestClient.UniqueName("batch-list");
        await batch.RegisterAsync(name, LinearModel);
        using var first = await batch.SubmitJsonAsync(new { model = name, input = new { format = "jsonl", data = BatchTestClient.JsonlRow(1) } });
        var firstId = await BatchTestClient.AcceptedIdAsync(first);
        using var second = await batch.SubmitJsonAsync(new { model = name, input = new { format = "jsonl", data = BatchTestClient.JsonlRow(2) } });
        var secondId = await BatchTestClient.AcceptedIdAsync(second);
        await batch.WaitForStatusAsync(firstId, "succeeded");
        await batch.WaitForStatusAsync(secondId, "succeeded");

        var page = await batch.Http.GetFromJsonAsync<JsonElement>("/v1/batch/jobs?status=succeeded&pageSize=500").WaitAsync(PlatformFixture.RequestTimeout);
        var ids = page.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()).ToList();
        Assert.True(ids.IndexOf(secondId) >= 0 && ids.IndexOf(secondId) < ids.IndexOf(firstId), "newest first");
        Assert.All(page.GetProperty("items").EnumerateArray(), j => Assert.Equal("succeeded", j.GetProperty("status").GetString()));
        Assert.Equal(500, page.GetProperty("pageSize").GetInt32());
        Assert.True(page.GetProperty("count").GetInt64() >= 2);
        var item = page.GetProperty("items").EnumerateArray().First(j => j.GetProperty("id").GetString() == firstId);
        Assert.Equal(name, item.GetProperty("model").GetString());
        Assert.Equal(1, item.GetProperty("rowsDone").GetInt64());

        using var bad = await batch.Http.GetAsync("/v1/batch/jobs?status=done").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("status must be one of queued, running, succeeded, failed, cancelled.", BatchTestClient.Problem(await bad.Content.ReadAsStringAsync()).GetProperty("detail").GetString());
    }

    public static TheoryData<string, int, string> RejectedSubmissions => new()
    {
        { """{"input":{"format":"jsonl","data":"{}"}}""", 400, "'model' is required." },
        { """{"model":"m","input":{"format":"xml","data":"<a/>"}}""", 400, "'input.format' must be 'jsonl' or 'csv'." },
        { """{"model":"m","version":1,"alias":"production","input":{"format":"jsonl","data":"{}"}}""", 400, "Give either 'version' or 'alias', not both." },
        { """{"model":"m","input":{"format":"jsonl","data":"{}"},"chunkSize":1}""", 400, "'chunkSize' must be between 10 and 100000 (BatchJobOptions)." },
        { """{"model":"no-such-model","input":{"format":"jsonl","data":"{}"}}""", 404, "Model 'no-such-model' is not registered." },
        { """{"model":"m","input":{"format":"jsonl"}}""", 400, "'input.data' is required in a JSON submission; upload a file as multipart/form-data with an 'input' part instead." },
        { """{"model":""", 400, null! },
    };

    [Theory]
    [MemberData(nameof(RejectedSubmissions))]
    public async Task InvalidSubmissionsAreRejectedWithProblemDetails(string spec, int status, string? detail)
    {
        using var client = platform.CreateGatewayClient();
        using var content = new StringContent(spec, System.Text.Encoding.UTF8, "application/json");

        using var response = await client.PostAsync("/v1/batch/jobs", content).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = BatchTestClient.Problem(await response.Content.ReadAsStringAsync());
        Assert.Equal("Job rejected", problem.GetProperty("title").GetString());
        if (detail is null)
        {
            Assert.StartsWith("The job spec is not valid JSON", problem.GetProperty("detail").GetString());
        }
        else
        {
            Assert.Equal(detail, problem.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task InputsThatCannotFeedTheModelAreRejectedAtSubmission()
    {
        var batch = Client();
        var name = BatchTestClient.UniqueName("batch-reject");
        await batch.RegisterAsync(name, LinearModel);

        using var noRows = await batch.SubmitJsonAsync(new { model = name, input = new { format = "jsonl", data = "\n\n" } });
        using var wrongHeader = await batch.SubmitJsonAsync(new { model = name, input = new { format = "csv", data = "a,b,c\n1,2,3" } });
        using var unknownOutput = await batch.SubmitJsonAsync(new { model = name, outputs = new[] { "scores" }, input = new { format = "jsonl", data = BatchTestClient.JsonlRow(0) } });
        using var unknownAlias = await batch.SubmitJsonAsync(new { model = name, alias = "staging", input = new { format = "jsonl", data = BatchTestClient.JsonlRow(0) } });
        using var text = new StringContent("hello", System.Text.Encoding.UTF8, "text/plain");
        using var wrongType = await batch.Http.PostAsync("/v1/batch/jobs", text).WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.BadRequest, noRows.StatusCode);
        Assert.Equal("The input has no rows.", BatchTestClient.Problem(await noRows.Content.ReadAsStringAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, wrongHeader.StatusCode);
        Assert.Equal("The CSV header has 3 columns but input 'input' takes 8 values per row.", BatchTestClient.Problem(await wrongHeader.Content.ReadAsStringAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, unknownOutput.StatusCode);
        Assert.Equal("The model has no output 'scores'; it has logits, probabilities.", BatchTestClient.Problem(await unknownOutput.Content.ReadAsStringAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknownAlias.StatusCode);
        Assert.Equal($"Model '{name}' has no alias 'staging'; name a version or an existing alias.", BatchTestClient.Problem(await unknownAlias.Content.ReadAsStringAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
    }

    [Fact]
    public async Task UnknownJobsAreNotFound()
    {
        var batch = Client();

        using var status = await batch.Http.GetAsync("/v1/batch/jobs/0123456789abcdef").WaitAsync(PlatformFixture.RequestTimeout);
        using var results = await batch.Http.GetAsync("/v1/batch/jobs/0123456789abcdef/results").WaitAsync(PlatformFixture.RequestTimeout);
        using var cancel = await batch.Http.DeleteAsync("/v1/batch/jobs/..%2Fetc").WaitAsync(PlatformFixture.RequestTimeout);

        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        Assert.Equal("There is no batch job '0123456789abcdef'.", BatchTestClient.Problem(await status.Content.ReadAsStringAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, results.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
    }
}
