using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using MlPlatform.GrpcContracts;
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
        // A declared 30 MB body of which not one byte is sent, over a raw connection (HttpClient reads no answer before it has sent its
        // body): an answer can only come from the headers.
        var gateway = platform.App.GetEndpoint("gateway", "http");
        using var tcp = new System.Net.Sockets.TcpClient();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await tcp.ConnectAsync(gateway.Host, gateway.Port, cancel.Token);
        var stream = tcp.GetStream();
        var head = $"POST /v2/models/{UniqueName("nosuch")}/infer HTTP/1.1\r\nHost: {gateway.Authority}\r\n" +
            $"Authorization: Bearer {PlatformFixture.ReaderApiKey}\r\nContent-Type: application/json\r\nContent-Length: 30000000\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancel.Token);

        var answer = await ReadResponseAsync(stream, cancel.Token);
        Assert.StartsWith("HTTP/1.1 404", answer, StringComparison.Ordinal);
        Assert.Contains("\"error\":\"Unknown model", answer, StringComparison.Ordinal);
    }

    /// <summary>The status line, headers and as much of the body as has arrived once the headers are in (a short JSON error is in one read).</summary>
    private static async Task<string> ReadResponseAsync(Stream stream, CancellationToken cancellationToken)
    {
        var received = new StringBuilder();
        var buffer = new byte[8192];
        int headerEnd;
        while ((headerEnd = received.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0
            || received.Length == headerEnd + 4)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                break;
            }
            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
        return received.ToString();
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
        // The run has started once the scorer has burnt half a second of CPU since the request (other work on a shared machine slows
        // that down, so the rates below are compared with each other, not with a fixed figure).
        var sent = ProcessMemory.CpuSeconds(scorer.ProcessId);
        await EventuallyAsync(() => Task.FromResult(running.IsCompleted || ProcessMemory.CpuSeconds(scorer.ProcessId) - sent > 0.5), "the slow run uses the CPU");
        if (running.IsCompleted)
        {
            using var early = await running;
            Assert.Fail($"the slow request ended before it was aborted: {(int)early.StatusCode} {await early.Content.ReadAsStringAsync()}");
        }
        var during = await CpuOverAsync(scorer.ProcessId, TimeSpan.FromSeconds(2));

        await abort.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        // The run ends at ONNX Runtime's next node: within a second on a quiet machine, a few on a loaded one, instead of the minute or
        // more the whole run takes. The scorer's CPU per second falls to a small fraction of the run's.
        var perSecondDuringRun = during / 2;
        var sinceAbort = Stopwatch.StartNew();
        double after;
        do
        {
            after = await CpuOverAsync(scorer.ProcessId, TimeSpan.FromSeconds(1));
        }
        while (after >= perSecondDuringRun / 4 && sinceAbort.Elapsed < TimeSpan.FromSeconds(15));
        Assert.True(after < perSecondDuringRun / 4,
            $"the scorer still used {after:F2} s of CPU a second {sinceAbort.Elapsed.TotalSeconds:F1} s after the abort; {perSecondDuringRun:F2} s a second during the run");

        // The model still serves a short run.
        var (status, _, _) = await PostJsonAsync(client, $"/v2/models/{name}/infer",
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,0,0,0]}]}");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    private static async Task<double> CpuOverAsync(int pid, TimeSpan window)
    {
        var start = ProcessMemory.CpuSeconds(pid);
        await Task.Delay(window);
        return ProcessMemory.CpuSeconds(pid) - start;
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

        // The same refusal over gRPC: FAILED_PRECONDITION with the same reason.
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(platform.CreateGatewayGrpcChannel());
        var request = new ModelInferRequest
        {
            ModelName = name,
            ModelVersion = v1.ToString(CultureInfo.InvariantCulture),
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 1, 4 }, Contents = new() { Fp32Contents = { 1, 2, 3, 4 } } } },
        };
        var refused = await Assert.ThrowsAsync<RpcException>(() => grpc.ModelInferAsync(request, PlatformFixture.GrpcKey(PlatformFixture.ReaderApiKey)).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal($"Version {v1} of model '{name}' is archived.", refused.Status.Detail);
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
