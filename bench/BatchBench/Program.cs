using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Tensors;

// Usage: dotnet run --project bench/BatchBench -c Release [-- rows runs]
var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
const int BatchSize = 1024;
var modelPath = Path.Combine(AppContext.BaseDirectory, "models", "batch-linear.onnx");
var work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"mlplatform-batchbench-{Guid.NewGuid():N}")).FullName;
var input = Path.Combine(work, "input.jsonl");
var loadAtStart = File.ReadAllText("/proc/loadavg").Split(' ')[0];

try
{
    WriteInput(input, rows);
    Console.WriteLine($"Input: {rows} rows, {new FileInfo(input).Length / 1024.0 / 1024.0:F1} MiB");

    // Single process: read JSONL, ONNX Runtime in batches of 1,024, write JSONL. The session is opened and the loop run once
    // before the clock starts, as the platform's replicas are warmed up by a first job.
    using var model = OnnxModel.Load(modelPath, new OnnxSessionOptions());
    SingleProcess(model, input, Path.Combine(work, "single.jsonl"), BatchSize);
    var single = new List<double>();

    var dataDir = Directory.CreateDirectory(Path.Combine(work, "data")).FullName;
    var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
    [
        $"Platform:DataDir={dataDir}", "Platform:GatewayPort=0", "Platform:DemoModel=false", "Redis:Mode=local",
        "Parameters:admin-api-key=bench-admin-key-0123456789abcdef",
    ]);
    builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning).AddFilter("Aspire.", LogLevel.Warning));
    await using var app = await builder.BuildAsync();
    await app.StartAsync();
    await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway").WaitAsync(TimeSpan.FromMinutes(4));
    using var http = app.CreateHttpClient("gateway", "http");
    http.Timeout = TimeSpan.FromMinutes(5);
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "bench-admin-key-0123456789abcdef");

    using (var content = new ByteArrayContent(File.ReadAllBytes(modelPath)))
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        (await http.PostAsync("/v1/models/batch-bench/versions", content)).EnsureSuccessStatusCode();
    }
    (await http.PutAsJsonAsync("/v1/models/batch-bench/aliases/production", new { version = 1, reason = "benchmark" })).EnsureSuccessStatusCode();

    // Warm-up: both replicas fetch the artifact and open their session.
    var warmup = Path.Combine(work, "warmup.jsonl");
    WriteInput(warmup, 20_000);
    await SubmitAndWaitAsync(http, warmup);

    // Runs alternate between the two paths so that the machine's changing load falls on both alike.
    var platform = new List<double>();
    var accepted = new List<double>();
    var scoring = new List<double>();
    var download = new List<double>();
    for (var run = 0; run < runs; run++)
    {
        var seconds = SingleProcess(model, input, Path.Combine(work, "single.jsonl"), BatchSize);
        single.Add(seconds);
        Console.WriteLine($"single process run {run + 1}: {seconds:F2} s ({rows / seconds:F0} rows/s)");

        var result = await SubmitAndWaitAsync(http, input);
        platform.Add(result.Seconds);
        accepted.Add(result.AcceptedSeconds);
        scoring.Add(result.ScoringSeconds);
        var clock = Stopwatch.StartNew();
        await using (var results = await http.GetStreamAsync($"/v1/batch/jobs/{result.Id}/results"))
        await using (var file = File.Create(Path.Combine(work, "platform.jsonl")))
        {
            await results.CopyToAsync(file);
        }
        download.Add(clock.Elapsed.TotalSeconds);
        Console.WriteLine($"platform run {run + 1}: {result.Seconds:F2} s ({rows / result.Seconds:F0} rows/s; 202 after {result.AcceptedSeconds:F2} s, " +
            $"first chunk to last {result.ScoringSeconds:F2} s), results downloaded in {download[^1]:F2} s");
    }
    var identical = File.ReadLines(Path.Combine(work, "single.jsonl")).Count() == File.ReadLines(Path.Combine(work, "platform.jsonl")).Count();

    var singleMedian = Median(single);
    var platformMedian = Median(platform);
    var ratio = singleMedian / platformMedian;
    Console.WriteLine($"ratio (platform rows/s ÷ single-process rows/s): {ratio:F2}");
    WriteReport(rows, runs, single, platform, accepted, scoring, download, ratio, identical, loadAtStart);
}
finally
{
    try
    {
        Directory.Delete(work, recursive: true);
    }
    catch (IOException)
    {
    }
}

static async Task<(double Seconds, string Id, double AcceptedSeconds, double ScoringSeconds)> SubmitAndWaitAsync(HttpClient http, string inputPath)
{
    var clock = Stopwatch.StartNew();
    using var form = new MultipartFormDataContent();
    form.Add(new StringContent("""{"model":"batch-bench","input":{"format":"jsonl"},"outputs":["probabilities"]}""", Encoding.UTF8, "application/json"), "spec");
    await using var file = File.OpenRead(inputPath);
    form.Add(new StreamContent(file), "input", "input.jsonl");
    using var response = await http.PostAsync("/v1/batch/jobs", form);
    if (response.StatusCode != HttpStatusCode.Accepted)
    {
        throw new InvalidOperationException($"Submission failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
    var acceptedAfter = clock.Elapsed.TotalSeconds;
    var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    while (true)
    {
        var job = await http.GetFromJsonAsync<JsonElement>($"/v1/batch/jobs/{id}");
        var status = job.GetProperty("status").GetString();
        if (status == "succeeded")
        {
            var elapsed = clock.Elapsed.TotalSeconds;
            var scoring = (job.GetProperty("finishedAt").GetDateTimeOffset() - job.GetProperty("startedAt").GetDateTimeOffset()).TotalSeconds;
            return (elapsed, id, acceptedAfter, scoring);
        }
        if (status is "failed" or "cancelled")
        {
            throw new InvalidOperationException($"Job {id} ended {status}: {job}");
        }
        await Task.Delay(20);
    }
}

static double SingleProcess(OnnxModel model, string inputPath, string outputPath, int batchSize)
{
    var clock = Stopwatch.StartNew();
    using var reader = new StreamReader(inputPath, Encoding.UTF8, false, 1 << 16);
    using var output = new FileStream(outputPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
    using var json = new Utf8JsonWriter(output);
    var values = new float[batchSize * 8];
    var count = 0;
    long row = 0;
    void Flush()
    {
        using var tensor = TensorBuffer.FromValues<float>("input", TensorDataType.FP32, [count, 8], values.AsSpan(0, count * 8));
        var outputs = model.Run([tensor], ["probabilities"]);
        var data = outputs[0].AsSpan<float>();
        for (var r = 0; r < count; r++)
        {
            json.WriteStartObject();
            json.WriteNumber("row", row++);
            json.WriteStartObject("outputs");
            json.WriteStartArray("probabilities");
            for (var k = 0; k < 3; k++)
            {
                json.WriteNumberValue(data[r * 3 + k]);
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
            json.Flush();
            output.WriteByte((byte)'\n');
            json.Reset();
        }
        outputs[0].Dispose();
        count = 0;
    }
    while (reader.ReadLine() is { } line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            continue;
        }
        using var document = JsonDocument.Parse(line);
        var i = 0;
        foreach (var v in document.RootElement.GetProperty("input").EnumerateArray())
        {
            values[count * 8 + i++] = v.GetSingle();
        }
        if (++count == batchSize)
        {
            Flush();
        }
    }
    if (count > 0)
    {
        Flush();
    }
    output.Flush(flushToDisk: true);
    return clock.Elapsed.TotalSeconds;
}

static void WriteInput(string path, int rows)
{
    using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
    for (var i = 0; i < rows; i++)
    {
        writer.Write("{\"input\":[");
        for (var j = 0; j < 8; j++)
        {
            if (j > 0)
            {
                writer.Write(',');
            }
            writer.Write(MathF.Round(MathF.Sin(i * 0.37f + j * 1.3f) * 3f, 4).ToString("R", CultureInfo.InvariantCulture));
        }
        writer.Write("]}\n");
    }
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static void WriteReport(int rows, int runs, List<double> single, List<double> platform, List<double> accepted, List<double> scoring, List<double> download, double ratio, bool sameLineCount, string loadAtStart)
{
    var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
    var memory = File.ReadLines("/proc/meminfo").First().Split(':', 2)[1].Trim();
    string Row(string name, List<double> seconds) =>
        $"| {name} | {string.Join(" / ", seconds.Select(s => s.ToString("F2", CultureInfo.InvariantCulture)))} | {Median(seconds):F2} | {rows / Median(seconds):F0} |";
    var report = $"""
        # Batch scoring throughput

        A {rows:N0}-row JSONL job (8 FP32 values per row, `models/batch/batch-linear.onnx`: Gemm 8→3 + Softmax) measured in one run of
        `dotnet run --project bench/BatchBench -c Release` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.

        ## Machine
        - CPU: {cpu}, {Environment.ProcessorCount} cores; memory {memory}
        - OS: {RuntimeInformation.OSDescription}; .NET {Environment.Version}; ONNX Runtime 1.31.1 (1 intra-op thread, as the platform's default)
        - Shared with other agents' builds and tests: load average {loadAtStart} when the benchmark started

        ## What is compared
        - **Single process**: one loop reads the JSONL, parses each line, runs ONNX Runtime on batches of 1,024 rows and writes one JSONL
          result line per row to a file (fsynced). The session is opened before the clock starts.
        - **Platform**: the same file submitted through the gateway as a multipart upload (`POST /v1/batch/jobs`), clock from the start of the
          upload until `GET /v1/batch/jobs/{"{id}"}` reports `succeeded`: input stored and fsynced, scanned into 100 chunks of 1,000 rows, chunks
          queued on the Redis Stream, scored by 2 batch scorer replicas (2 chunks each at a time, ORT batches of 1,024 rows),
          results published per chunk (temp file, fsync, rename), counted in Redis. A 20,000-row warm-up job loads the model on both replicas first;
          the single process also makes one untimed pass first (JIT, session). Runs alternate between the two paths.

        ## Results ({runs} runs each; median used)
        | path | seconds per run | median s | rows/s |
        |---|---|---|---|
        {Row("single process", single)}
        {Row("platform, submission → succeeded", platform)}

        Of the platform's time, the upload until `202 Accepted` took {Join(accepted)} s and the scoring from the first chunk's start to
        the last chunk's completion {Join(scoring)} s (job `startedAt` → `finishedAt`); the rest is queueing and status polling (every 20 ms).
        Downloading the results (`GET …/results`, {rows:N0} JSONL lines in input order) took {string.Join(" / ", download.Select(s => s.ToString("F2", CultureInfo.InvariantCulture)))} s more.
        Both paths wrote {(sameLineCount ? "the same number of" : "DIFFERENT numbers of")} result lines.

        **Ratio (platform rows/s ÷ single-process rows/s): {ratio:F2}** (target ≥ 0.5).
        """;
    var path = Path.Combine(FindRepositoryRoot(), "bench", "results", "batch.md");
    static string Join(List<double> seconds) => string.Join(" / ", seconds.Select(s => s.ToString("F2", CultureInfo.InvariantCulture)));
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    File.WriteAllText(path, report.Replace("\r\n", "\n") + "\n");
    Console.WriteLine($"Wrote {path}");
}

static string FindRepositoryRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MlPlatform.sln")))
    {
        dir = dir.Parent;
    }
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
