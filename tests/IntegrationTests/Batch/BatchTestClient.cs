using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.IntegrationTests.Batch;

/// <summary>What the batch tests do through the gateway: register a model, submit jobs, poll them, read results.</summary>
internal sealed class BatchTestClient(HttpClient http)
{
    public static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(6);

    public HttpClient Http => http;

    public static string ModelPath(string file) => Path.Combine(AppContext.BaseDirectory, "models", "batch", file);

    /// <summary>A model name no other test uses.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Registers <paramref name="file"/> as a new version of <paramref name="name"/> and points <c>production</c> at it.</summary>
    public async Task<(int Version, string Sha256)> RegisterAsync(string name, string file, bool promote = true)
    {
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(ModelPath(file)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await http.PostAsync($"/v1/models/{name}/versions", content).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var version = body.RootElement.GetProperty("version").GetInt32();
        var sha256 = body.RootElement.GetProperty("sha256").GetString()!;
        if (promote)
        {
            await SetAliasAsync(name, "production", version);
        }
        return (version, sha256);
    }

    public async Task SetAliasAsync(string name, string alias, int version)
    {
        using var response = await http.PutAsJsonAsync($"/v1/models/{name}/aliases/{alias}", new { version, reason = "batch test" })
            .WaitAsync(PlatformFixture.RequestTimeout);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public Task<HttpResponseMessage> SubmitJsonAsync(object spec) =>
        http.PostAsJsonAsync("/v1/batch/jobs", spec).WaitAsync(PlatformFixture.RequestTimeout);

    /// <summary>Multipart submission: the spec as JSON and the input streamed from a file.</summary>
    public async Task<HttpResponseMessage> SubmitFileAsync(object spec, string inputPath)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(JsonSerializer.Serialize(spec), Encoding.UTF8, "application/json"), "spec");
        await using var file = File.OpenRead(inputPath);
        form.Add(new StreamContent(file), "input", Path.GetFileName(inputPath));
        return await http.PostAsync("/v1/batch/jobs", form).WaitAsync(PlatformFixture.RequestTimeout);
    }

    /// <summary>
    /// Writes <paramref name="rows"/> JSONL rows (<see cref="WriteJsonlFileAsync"/>) to a temporary file, submits them with
    /// <paramref name="spec"/> and returns the accepted job's id. The file is deleted once the job is accepted: the upload is complete
    /// then, and the workers read the platform's copy.
    /// </summary>
    public async Task<string> SubmitRowsAsync(object spec, long rows)
    {
        var input = await WriteJsonlFileAsync(rows);
        try
        {
            using var submitted = await SubmitFileAsync(spec, input);
            return await AcceptedIdAsync(submitted);
        }
        finally
        {
            File.Delete(input);
        }
    }

    /// <summary>Submits and returns the accepted job's id, asserting the 202 contract.</summary>
    public static async Task<string> AcceptedIdAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        using var body = JsonDocument.Parse(text);
        var id = body.RootElement.GetProperty("id").GetString()!;
        Assert.Equal("queued", body.RootElement.GetProperty("status").GetString());
        Assert.Equal($"/v1/batch/jobs/{id}", body.RootElement.GetProperty("links").GetProperty("self").GetString());
        Assert.Equal($"/v1/batch/jobs/{id}/results", body.RootElement.GetProperty("links").GetProperty("results").GetString());
        Assert.Equal($"/v1/batch/jobs/{id}", response.Headers.Location?.OriginalString);
        return id;
    }

    public async Task<JsonElement> GetJobAsync(string id)
    {
        using var response = await http.GetAsync($"/v1/batch/jobs/{id}").WaitAsync(PlatformFixture.RequestTimeout);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Polls the job until <paramref name="done"/> holds; a failed status that was not asked for fails fast with the job's error.</summary>
    public async Task<JsonElement> WaitForAsync(string id, Func<JsonElement, bool> done, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? JobTimeout);
        JsonElement job = default;
        while (!cts.IsCancellationRequested)
        {
            try
            {
                using var response = await http.GetAsync($"/v1/batch/jobs/{id}").WaitAsync(PlatformFixture.RequestTimeout);
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    // 503 + Retry-After: a replica whose connection to a restarted Redis is not back yet (it answers at once rather
                    // than waiting), or no live replica. Asked again, as a client honouring Retry-After would.
                    await Task.Delay(250);
                    continue;
                }
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
                job = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (HttpRequestException)
            {
                // A replica being killed by a fault test may drop one poll.
                await Task.Delay(250);
                continue;
            }
            if (done(job))
            {
                return job;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Job {id} did not reach the expected state: {job}");
    }

    public Task<JsonElement> WaitForStatusAsync(string id, string status, TimeSpan? timeout = null) =>
        WaitForAsync(id, job =>
        {
            var current = job.GetProperty("status").GetString();
            Assert.False(current != status && current is "failed" or "succeeded" or "cancelled",
                $"Job {id} ended {current} while waiting for {status}: {job}");
            return current == status;
        }, timeout);

    public async Task<(HttpResponseMessage Response, string Body)> GetResultsAsync(string id, string? format = null, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/batch/jobs/{id}/results" + (format is null ? "" : $"?format={format}"));
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }
        var response = await http.SendAsync(request).WaitAsync(PlatformFixture.RequestTimeout);
        return (response, await response.Content.ReadAsStringAsync());
    }

    public static JsonElement Problem(string body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    /// <summary>The test rows: 8 deterministic floats per row.</summary>
    public static float[] Row(long i)
    {
        var row = new float[8];
        for (var j = 0; j < 8; j++)
        {
            row[j] = MathF.Round(MathF.Sin(i * 0.37f + j * 1.3f) * 3f, 4);
        }
        return row;
    }

    public static string JsonlRow(long i) =>
        "{\"input\":[" + string.Join(",", Row(i).Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]}";

    public static string CsvRow(long i) => string.Join(",", Row(i).Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    public static async Task<string> WriteJsonlFileAsync(long rows, Func<long, string>? line = null)
    {
        var path = Path.Combine(Path.GetTempPath(), $"batch-{Guid.NewGuid():N}.jsonl");
        await using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        for (long i = 0; i < rows; i++)
        {
            await writer.WriteAsync((line ?? JsonlRow)(i));
            await writer.WriteAsync('\n');
        }
        return path;
    }

    /// <summary>The model's outputs for the rows, computed in-process by ONNX Runtime in batches of 1,024.</summary>
    public static float[][] ExpectedOutputs(string file, string output, long rows)
    {
        using var model = OnnxModel.Load(ModelPath(file), new OnnxSessionOptions());
        var expected = new float[rows][];
        const int batch = 1024;
        for (long start = 0; start < rows; start += batch)
        {
            var count = (int)Math.Min(batch, rows - start);
            var values = new float[count * 8];
            for (var r = 0; r < count; r++)
            {
                Row(start + r).CopyTo(values, r * 8);
            }
            using var input = TensorBuffer.FromValues<float>("input", TensorDataType.FP32, [count, 8], values);
            var outputs = model.Run([input], [output]);
            try
            {
                var data = outputs[0].AsSpan<float>();
                var width = data.Length / count;
                for (var r = 0; r < count; r++)
                {
                    expected[start + r] = data.Slice(r * width, width).ToArray();
                }
            }
            finally
            {
                outputs[0].Dispose();
            }
        }
        return expected;
    }

    public static void AssertClose(float[] expected, float[] actual, long row)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var k = 0; k < expected.Length; k++)
        {
            var tolerance = 1e-5 * Math.Max(Math.Abs(expected[k]), 1e-30);
            if (Math.Abs(expected[k] - actual[k]) > tolerance)
            {
                Assert.Fail($"Row {row}, element {k}: expected {expected[k]:R}, got {actual[k]:R}.");
            }
        }
    }
}
