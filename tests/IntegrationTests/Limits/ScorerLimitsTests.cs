using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MlPlatform.IntegrationTests.Online;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Limits;

/// <summary>Issue 16, the online scorer: memory held by requests is bounded, an aborted run stops, archived versions are refused.</summary>
[Collection(LimitsCollection.Name)]
public sealed class ScorerLimitsTests(LimitsFixture platform)
{
    /// <summary>What the scorer may hold beyond its in-flight budget: runtime, sessions, pooled buffers kept after use, GC slack.</summary>
    private const long StatedOverheadBytes = 700L << 20;

    private static readonly string SeqSumFp64 = RegistryTestSupport.RepositoryFile("tests", "IntegrationTests", "Assets", "seqsum-fp64.onnx");
    private static readonly string SlowRun = RegistryTestSupport.RepositoryFile("tests", "IntegrationTests", "Assets", "slow-run.onnx");

    [Fact]
    public async Task TwentyLargeRequestsAtOnceAreServedOrRefusedWithinTheMemoryBudget()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("fp64");
        var version = await RegistryTestSupport.RegisterAsync(client, name, await File.ReadAllBytesAsync(SeqSumFp64));
        await SetAliasAsync(client, name, "production", version);
        await EventuallyAsync(async () => (await GetJsonAsync(client, $"/v2/models/{name}/ready")).Status == HttpStatusCode.OK, "the model is ready");

        // ~30 MB of JSON: 7.5 million FP64 values "0.5," -> 60 MB decoded.
        const int elements = 7_500_000;
        var json = new StringBuilder(elements * 4 + 200);
        json.Append("{\"inputs\":[{\"name\":\"values\",\"datatype\":\"FP64\",\"shape\":[1,").Append(elements).Append("],\"data\":[");
        for (var i = 0; i < elements; i++)
        {
            json.Append(i == 0 ? "0.5" : ",0.5");
        }
        json.Append("]}]}");
        var body = Encoding.UTF8.GetBytes(json.ToString());
        Assert.InRange(body.Length, 28_000_000, 32_000_000);

        var scorer = await ScorerProcess.FindAsync(platform);
        var baseline = ProcessMemory.RssBytes(scorer.ProcessId);
        using var sampling = new CancellationTokenSource();
        var peak = 0L;
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ProcessMemory.RssBytes(scorer.ProcessId));
                await Task.Delay(20);
            }
        });

        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync($"/v2/models/{name}/infer", content).WaitAsync(PlatformFixture.RequestTimeout);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                Assert.True(response.Headers.RetryAfter is not null, "a 503 carries Retry-After");
                Assert.Contains("in-flight memory budget", text, StringComparison.Ordinal);
            }
            return (response.StatusCode, text);
        }));
        await sampling.CancelAsync();
        await sampler;

        Assert.All(statuses, s => Assert.True(s.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{(int)s.StatusCode}: {s.text}"));
        Assert.Contains(statuses, s => s.StatusCode == HttpStatusCode.OK);
        Assert.True(peak - baseline < LimitsFixture.MaxInFlightBytes + StatedOverheadBytes,
            $"peak RSS {peak >> 20} MB from a baseline of {baseline >> 20} MB; budget {LimitsFixture.MaxInFlightBytes >> 20} MB + {StatedOverheadBytes >> 20} MB");

        // And it serves normally afterwards.
        var (status, answer, _) = await PostJsonAsync(client, $"/v2/models/{name}/infer",
            "{\"inputs\":[{\"name\":\"values\",\"datatype\":\"FP64\",\"shape\":[1,3],\"data\":[1.5,2,3]}]}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(6.5, answer.RootElement.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble());
    }

    [Fact]
    public async Task ABodyForAnUnknownModelIsRefusedBeforeItIsRead()
    {
        using var client = platform.CreateGatewayClient();
        // A declared 30 MB body of which nothing is sent: the answer can only come before the body is read.
        using var content = new StreamContent(new StallingStream());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentLength = 30_000_000;
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await client.PostAsync($"/v2/models/{UniqueName("nosuch")}/infer", content, cancel.Token);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("Unknown model", error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAbortedRequestStopsItsRun()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("slow");
        var version = await RegistryTestSupport.RegisterAsync(client, name, await File.ReadAllBytesAsync(SlowRun));
        await SetAliasAsync(client, name, "production", version);
        await EventuallyAsync(async () => (await GetJsonAsync(client, $"/v2/models/{name}/ready")).Status == HttpStatusCode.OK, "the model is ready");
        var scorer = await ScorerProcess.FindAsync(platform);

        // sum(input) = 20000 products of 512x512 matrices: a minute or more of one core, unless the run is terminated.
        using var abort = new CancellationTokenSource();
        using var content = new StringContent("{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[20000,0,0,0]}]}",
            Encoding.UTF8, "application/json");
        var running = client.PostAsync($"/v2/models/{name}/infer", content, abort.Token);
        // The run has started once the scorer burns a core.
        await EventuallyAsync(async () =>
        {
            var before = ProcessMemory.CpuSeconds(scorer.ProcessId);
            await Task.Delay(500);
            return ProcessMemory.CpuSeconds(scorer.ProcessId) - before > 0.3;
        }, "the slow run uses the CPU");

        await abort.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        // Within a second of the abort the run has ended: the next second costs the scorer next to no CPU.
        await Task.Delay(1000);
        var start = ProcessMemory.CpuSeconds(scorer.ProcessId);
        await Task.Delay(1000);
        var used = ProcessMemory.CpuSeconds(scorer.ProcessId) - start;
        Assert.True(used < 0.3, $"the scorer used {used:F2} s of CPU in the second after the abort");

        // The model still serves a short run.
        var (status, _, _) = await PostJsonAsync(client, $"/v2/models/{name}/infer",
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,0,0,0]}]}");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task AnArchivedVersionIsRefusedWithTheBatchScorersReason()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("archived");
        var (v1, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        var (v2, _) = await RegisterAsync(client, name, "linear-v2.onnx");
        await SetAliasAsync(client, name, "production", v2);
        using (var archived = await client.DeleteAsync($"/v1/models/{name}/versions/{v1}").WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.True(archived.IsSuccessStatusCode, $"archive: {(int)archived.StatusCode}");
        }

        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        var (status, body, _) = await PostJsonAsync(reader, $"/v2/models/{name}/versions/{v1}/infer",
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal($"Version {v1} of model '{name}' is archived.", body.RootElement.GetProperty("error").GetString());
    }

    /// <summary>A request body that never sends a byte (until the request is cancelled).</summary>
    private sealed class StallingStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>A process's resident memory and CPU time, from <c>/proc</c>.</summary>
internal static class ProcessMemory
{
    public static long RssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException($"No VmRSS in /proc/{pid}/status.");
    }

    /// <summary>User and system CPU time (fields 14 and 15 of <c>/proc/{pid}/stat</c>, in clock ticks of 1/100 s).</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
