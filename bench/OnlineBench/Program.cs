using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MlPlatform.Bench;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;

// Online scorer benchmark: in-process ONNX Runtime, a hand-written endpoint, the scorer directly and through the gateway,
// measured in one run on one machine, written to bench/results/online.md. Usage:
//   dotnet run -c Release --project bench -- [--seconds 4] [--out bench/results/online.md]
//     [--hop-only] (only the gateway hop, nothing written) [--hold 60] (then load the gateway at c1 for that long, to attach a profiler)
//     [--set Section:Key=value ...] (AppHost configuration, e.g. Gateway:... settings to compare)
//     [--max-queue-delay-ms 0] (the batched model's max queue delay)
//     [--grpc] (only gRPC raw contents vs REST binary through the gateway at c16, written into its own section of --out)
//     [--shadow] (only production p99 at c4 with and without a shadow alias at weight 50, written to --out or bench/results/shadow.md)
//     [--with-grpc] [--with-shadow [--shadow-out path]] (both after the full run, on the same platform)
//     [--rounds N] (interleaved rounds of the target ratios and of the gRPC comparison, 3) [--shadow-rounds N] (5)
// bench/run-quiet.sh runs every bench the open issues ask for, in one session, from one Release build.
// It starts the whole platform itself (Aspire testing host: random ports, temporary data folder, local redis-server).
if (Arg("--bare-proxy") is { } bareProxyTarget)
{
    await BareProxy.RunAsync(bareProxyTarget, Arg("--expect-continue-over") is { } over ? long.Parse(over, CultureInfo.InvariantCulture) : null);
    return;
}
if (args.Contains("--parse"))
{
    // Decoding cost alone, no platform: CPU time per call of the scorer's request reader on the large-input bodies.
    Console.WriteLine(ParseBench.Run(int.Parse(Arg("--rounds") ?? "15", CultureInfo.InvariantCulture)));
    return;
}
var seconds = double.Parse(Arg("--seconds") ?? "4", CultureInfo.InvariantCulture);
var output = Arg("--out") ?? Path.Combine(FindRepositoryRoot(), "bench", "results", "online.md");
var duration = TimeSpan.FromSeconds(seconds);
var warmup = TimeSpan.FromSeconds(1);
// --large: the large-input model instead (FP32 [N,3,48,192], generated; JSON bodies with four decimals, as clients write them): a small
// CNN with a dense head (what issue 20's ratios need), or with --large-cheap a near-free graph (reading the tensor is all that is measured).
var large = args.Contains("--large");
var (imageHeight, imageWidth) = large ? (48, 192) : (32, 32);
var modelPath = large
    ? args.Contains("--large-cheap")
        ? LargeInputModel.Write(Directory.CreateTempSubdirectory("mlplatform-bench-model").FullName, imageHeight, imageWidth)
        : LargeInputModel.WriteCnn(Directory.CreateTempSubdirectory("mlplatform-bench-model").FullName, imageHeight, imageWidth)
    : Path.Combine(AppContext.BaseDirectory, "models", "conv.onnx");
const string AdminKey = "bench-admin-key-0123456789abcdef";
const string InternalKey = "bench-internal-key-0123456789abcdef0123456789";
int[] concurrencies = large ? [1, 8, 16] : [1, 8, 16, 64];

var hopOnly = args.Contains("--hop-only");
var grpcOnly = args.Contains("--grpc");
var shadowOnly = args.Contains("--shadow");
// The batched model's max queue delay (the scorer's default, 0, unless given): how long a run may wait for more requests.
var maxQueueDelayMs = double.Parse(Arg("--max-queue-delay-ms") ?? "0", CultureInfo.InvariantCulture);
var holdSeconds = double.Parse(Arg("--hold") ?? "0", CultureInfo.InvariantCulture);
var extraSettings = args.Select((a, i) => (a, i)).Where(t => t.a == "--set" && t.i + 1 < args.Length).Select(t => args[t.i + 1]).ToArray();

var results = new List<Measurement>();
HopCost? hopCost = null;
void Record(Measurement m)
{
    results.Add(m);
    Console.WriteLine($"{m.Scenario,-48} c={m.Concurrency,-3} {m.Throughput,9:F1}/s  p50 {m.P50Ms,7:F3} ms  p99 {m.P99Ms,7:F3} ms  errors {m.Errors}");
}

var machine = DescribeMachine();
Console.WriteLine(machine);

// 1. In-process ONNX Runtime, one call at a time, with the scorer's session options.
var random = new Random(5);
float[] Image(int rows)
{
    var values = new float[rows * 3 * imageHeight * imageWidth];
    for (var i = 0; i < values.Length; i++)
    {
        values[i] = (float)random.NextDouble();
    }
    return values;
}
void MeasureInProcess(string suffix)
{
    using var model = OnnxModel.Load(modelPath, new OnnxSessionOptions());
    foreach (var rows in new[] { 1, 8, 32 })
    {
        using var input = TensorBuffer.FromValues<float>("image", TensorDataType.FP32, [rows, 3, imageHeight, imageWidth], Image(rows));
        Record(LoadRunner.RunSync($"in-process Run, batch {rows}{suffix}", warmup, duration, () =>
        {
            foreach (var o in model.Run([input], model.OutputNames))
            {
                o.Dispose();
            }
        }, rows));
    }
}
if (!hopOnly && !grpcOnly && !shadowOnly)
{
    MeasureInProcess("");
}

// Request bodies: the same image as V2 JSON and as the binary tensor extension.
var imageValues = Image(1);
using var image = TensorBuffer.FromValues<float>("image", TensorDataType.FP32, [1, 3, imageHeight, imageWidth], imageValues);
var jsonWriter = new ArrayBufferWriter<byte>();
InferClientCodec.WriteRequest(jsonWriter, null, [image], binaryInputs: false);
var jsonBody = large ? LargeInputModel.JsonBody(imageValues, imageHeight, imageWidth, "4") : jsonWriter.WrittenSpan.ToArray();
var binaryWriter = new ArrayBufferWriter<byte>();
var binaryHeader = InferClientCodec.WriteRequest(binaryWriter, null, [image], binaryInputs: true, binaryOutputs: true);
var binaryBody = binaryWriter.WrittenSpan.ToArray();

HttpClient NewClient(string baseAddress, params (string Name, string Value)[] headers)
{
    var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
    {
        BaseAddress = new Uri(baseAddress),
        Timeout = TimeSpan.FromSeconds(60),
    };
    foreach (var (name, value) in headers)
    {
        client.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
    }
    return client;
}

Func<CancellationToken, Task<bool>> Sender(HttpClient client, string path, bool binary) => async ct =>
{
    using var content = new ByteArrayContent(binary ? binaryBody : jsonBody);
    content.Headers.ContentType = new MediaTypeHeaderValue(binary ? "application/octet-stream" : "application/json");
    if (binary)
    {
        content.Headers.Add("Inference-Header-Content-Length", binaryHeader.ToString(CultureInfo.InvariantCulture));
    }
    using var response = await client.PostAsync(path, content, ct);
    await response.Content.CopyToAsync(Stream.Null, ct);
    return response.IsSuccessStatusCode;
};

// 2. The hand-written endpoint (JSON in and out, Run once per request).
async Task MeasureHandWrittenAsync(string suffix)
{
    await using (var naive = await NaiveEndpoint.StartAsync(modelPath))
    {
        using var client = NewClient(naive.Url);
        foreach (var c in new[] { 1, 16 })
        {
            Record(await LoadRunner.RunAsync($"hand-written endpoint, JSON{suffix}", c, warmup, duration, Sender(client, "/infer", binary: false)));
        }
    }
    // For context only: the same endpoint as most people would first write it, with ORT's default session options.
    await using (var naive = await NaiveEndpoint.StartAsync(modelPath, tuned: false))
    {
        using var client = NewClient(naive.Url);
        Record(await LoadRunner.RunAsync($"hand-written endpoint, JSON, ORT default session options{suffix}", 16, warmup, duration, Sender(client, "/infer", binary: false)));
    }
}
if (!hopOnly && !grpcOnly && !shadowOnly)
{
    await MeasureHandWrittenAsync("");
}

// 3. The platform: the scorer directly (with the internal credential) and through the gateway (with an API key).
var dataDir = Path.Combine(Path.GetTempPath(), "mlplatform-bench", Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(dataDir);
var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
[
    // Both gateway ports free ones: a fixed gRPC port (8001) collides with any other platform running on the machine.
    $"Platform:DataDir={dataDir}", "Platform:GatewayPort=0", "Platform:GatewayGrpcPort=0", "Platform:DemoModel=false", "Redis:Mode=local",
    $"Parameters:admin-api-key={AdminKey}", $"Parameters:internal-api-key={InternalKey}",
    "Platform:BatchScorerReplicas=1",
    .. extraSettings,
]);
builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning).AddFilter("Aspire.", LogLevel.Warning).AddFilter("AppHost.Resources", LogLevel.Error).AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None).AddFilter("System.Net.Http", LogLevel.Error));
await using var app = await builder.BuildAsync();
await app.StartAsync();
await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway").WaitAsync(TimeSpan.FromMinutes(4));
await app.ResourceNotifications.WaitForResourceHealthyAsync("onlinescorer").WaitAsync(TimeSpan.FromMinutes(4));
var gatewayUrl = app.GetEndpoint("gateway", "http").ToString();
var scorerUrl = app.GetEndpoint("onlinescorer", "http").ToString();
using var gateway = NewClient(gatewayUrl, ("Authorization", $"Bearer {AdminKey}"));
using var direct = NewClient(scorerUrl, (PlatformHeaders.InternalKey, InternalKey));

// A third model batches with a 1 ms queue delay: what letting a run wait for more requests gains at c8 (issue 20's batching target).
foreach (var (name, batching, delayMs) in new[] { ("bench-conv-batched", true, maxQueueDelayMs), ("bench-conv-unbatched", false, 0.0), ("bench-conv-batched-delay", true, 1.0) })
{
    using var upload = new ByteArrayContent(await File.ReadAllBytesAsync(modelPath));
    upload.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    (await gateway.PostAsync($"/v1/models/{name}/versions", upload)).EnsureSuccessStatusCode();
    (await gateway.PutAsJsonAsync($"/v1/models/{name}/serving",
        new { batching = new { enabled = batching, maxBatchSize = 32, maxQueueDelayMs = delayMs } })).EnsureSuccessStatusCode();
    (await gateway.PutAsJsonAsync($"/v1/models/{name}/aliases/production", new { version = 1, reason = "benchmark" })).EnsureSuccessStatusCode();
    while (!(await gateway.GetAsync($"/v2/models/{name}/ready")).IsSuccessStatusCode)
    {
        await Task.Delay(200);
    }
}

Console.WriteLine($"gateway {gatewayUrl}, scorer {scorerUrl}");
// Warm both paths (JIT tiering, connection pools, ORT's first batched runs) before anything is recorded.
foreach (var model in new[] { "bench-conv-batched", "bench-conv-unbatched", "bench-conv-batched-delay" })
{
    foreach (var client in new[] { direct, gateway })
    {
        await LoadRunner.RunAsync("warm-up", 8, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(0.1), Sender(client, $"/v2/models/{model}/infer", binary: false));
        await LoadRunner.RunAsync("warm-up", 8, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(0.1), Sender(client, $"/v2/models/{model}/infer", binary: true));
    }
}

// Issue 18: production p99 at c4 with a shadow alias at weight 50 against none, in alternating rounds (ShadowComparison).
async Task RunShadowAsync(string shadowOutput)
{
    var shadowMachine = DescribeMachine();
    await ShadowComparison.SetUpAsync(gateway, modelPath);
    async Task<ShadowCounters> ShadowCountersAsync()
    {
        double copied = 0, busy = 0, queueFull = 0;
        foreach (var line in (await direct.GetStringAsync("/metrics")).Split('\n'))
        {
            var value = line.StartsWith("mlplatform_shadow_", StringComparison.Ordinal) && !line.Contains("_created", StringComparison.Ordinal)
                ? double.Parse((line.Contains('}') ? line[(line.LastIndexOf('}') + 1)..] : line[(line.IndexOf(' ') + 1)..]).Trim().Split(' ')[0], CultureInfo.InvariantCulture)
                : 0;
            if (line.StartsWith("mlplatform_shadow_copied", StringComparison.Ordinal))
            {
                copied += value;
            }
            // Copies production left no room for in time, and copies that found the queue full (the scorer's two drop reasons).
            else if (line.StartsWith("mlplatform_shadow_dropped", StringComparison.Ordinal) && line.Contains("reason=\"busy\"", StringComparison.Ordinal))
            {
                busy += value;
            }
            else if (line.StartsWith("mlplatform_shadow_dropped", StringComparison.Ordinal))
            {
                queueFull += value;
            }
        }
        return new ShadowCounters(copied, busy, queueFull);
    }
    var shadowSend = Sender(gateway, $"/v2/models/{ShadowComparison.Model}/infer", binary: false);
    await LoadRunner.RunAsync("warm-up", 4, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(0.1), shadowSend);
    var shadowRuns = await ShadowComparison.RunAsync(gateway, int.Parse(Arg("--shadow-rounds") ?? "5", CultureInfo.InvariantCulture), warmup, duration,
        shadowSend, ShadowCountersAsync, Record);
    shadowMachine += $"- Load average at end: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?")}{Environment.NewLine}";
    await File.WriteAllTextAsync(shadowOutput, ShadowComparison.Render(shadowMachine, shadowRuns, seconds, $"JSON body {jsonBody.Length} bytes"));
    Console.WriteLine($"Wrote {shadowOutput}");
}

// Issue 17: gRPC raw vs REST binary through the gateway at c16, alternating run by run (GrpcComparison), into its section of the report.
async Task RunGrpcAsync(string grpcOutput)
{
    var grpcMachine = DescribeMachine();
    // --grpc-connections "1,4": one gRPC run per count each round, its calls spread over that many channels (one HTTP/2 connection each).
    var connectionCounts = (Arg("--grpc-connections") ?? "1").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
    var channels = Enumerable.Range(0, connectionCounts.Max()).Select(_ => Grpc.Net.Client.GrpcChannel.ForAddress(app.GetEndpoint("gateway", "grpc"),
        new Grpc.Net.Client.GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionLifetime = Timeout.InfiniteTimeSpan },
        })).ToArray();
    // --grpc-direct: REST and gRPC straight to the scorer as well (no gateway), to tell the scorer's share of a gap from the gateway's.
    var grpcDirect = args.Contains("--grpc-direct");
    using var directChannel = Grpc.Net.Client.GrpcChannel.ForAddress(app.GetEndpoint("onlinescorer", "grpc"),
        new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan } });
    var rounds = int.Parse(Arg("--rounds") ?? "3", CultureInfo.InvariantCulture);
    var grpcRuns = new List<Measurement>();
    var cpu = new List<GrpcComparison.CpuCost>();
    var (gatewayPids, scorerPids) = (ProcessSchedule.FindByUrl(gatewayUrl), ProcessSchedule.FindByUrl(scorerUrl));
    if (holdSeconds > 0)
    {
        // --hold-load "grpc|rest,<model>" holds that load at c16 (to attach a profiler to the printed pids); nothing is written.
        var hold = (Arg("--hold-load") ?? "grpc,bench-conv-unbatched").Split(',');
        Console.WriteLine($"Holding {hold[0]} load on {hold[1]} at c16 for {holdSeconds} s (gateway pids {string.Join(',', gatewayPids)}; scorer pids {string.Join(',', scorerPids)}; bench pid {Environment.ProcessId})");
        await MeasureAsync($"hold: {hold[0]}, {hold[1]}, run 1", hold[0] == "rest"
            ? Sender(gateway, $"/v2/models/{hold[1]}/infer", binary: true)
            : GrpcComparison.Sender(channels[..connectionCounts[0]], AdminKey, hold[1], "image", imageValues, [1, 3, imageHeight, imageWidth]));
        return;
    }
    // CPU per request of each process over the whole run (warm-up included, as the requests counted are).
    async Task MeasureAsync(string scenario, Func<CancellationToken, Task<bool>> send)
    {
        long sent = 0;
        var (gatewayCpu, scorerCpu, ownCpu) = (ProcessSchedule.ReadCpuMs(gatewayPids), ProcessSchedule.ReadCpuMs(scorerPids), Environment.CpuUsage.TotalTime.TotalMilliseconds);
        grpcRuns.Add(await LoadRunner.RunAsync(scenario, 16, warmup, duration, ct => { Interlocked.Increment(ref sent); return send(ct); }));
        cpu.Add(new GrpcComparison.CpuCost(scenario, sent, (ProcessSchedule.ReadCpuMs(gatewayPids) - gatewayCpu) / sent,
            (ProcessSchedule.ReadCpuMs(scorerPids) - scorerCpu) / sent, (Environment.CpuUsage.TotalTime.TotalMilliseconds - ownCpu) / sent));
        Record(grpcRuns[^1]);
        Console.WriteLine($"  CPU per request: gateway {cpu[^1].GatewayMs:F3} ms, scorer {cpu[^1].ScorerMs:F3} ms, client {cpu[^1].ClientMs:F3} ms");
    }
    foreach (var model in new[] { "bench-conv-batched", "bench-conv-unbatched" })
    {
        var grpcSenders = connectionCounts.Select(n => GrpcComparison.Sender(channels[..n], AdminKey, model, "image", imageValues, [1, 3, imageHeight, imageWidth])).ToArray();
        // Both paths get the same warm-up at c16 before anything is measured. REST's code had already run for many seconds (the warm-up
        // above, or the whole grid with --with-grpc) while the gRPC path's (HTTP/2 in Kestrel and in YARP's client, Grpc.AspNetCore,
        // protobuf) had run for 1.5 s: its runs then paid for tiered JIT (a quarter of the gateway's CPU in the first seconds, perf).
        for (var pass = 0; pass < 3; pass++)
        {
            await LoadRunner.RunAsync("warm-up", 16, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(0.1), Sender(gateway, $"/v2/models/{model}/infer", binary: true));
            foreach (var grpcSender in grpcSenders)
            {
                await LoadRunner.RunAsync("warm-up", 16, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(0.1), grpcSender);
            }
        }
        for (var round = 1; round <= rounds; round++)
        {
            await MeasureAsync($"REST binary, {model}, run {round}", Sender(gateway, $"/v2/models/{model}/infer", binary: true));
            for (var i = 0; i < connectionCounts.Length; i++)
            {
                await MeasureAsync($"{GrpcComparison.Label(connectionCounts[i])}, {model}, run {round}", grpcSenders[i]);
            }
            if (grpcDirect)
            {
                await MeasureAsync($"REST binary direct, {model}, run {round}", Sender(direct, $"/v2/models/{model}/infer", binary: true));
                await MeasureAsync($"gRPC raw direct, {model}, run {round}", GrpcComparison.Sender([directChannel], AdminKey, model, "image", imageValues,
                    [1, 3, imageHeight, imageWidth], (PlatformHeaders.InternalKey, InternalKey)));
            }
        }
    }
    grpcMachine += $"- Load average at end: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?")}{Environment.NewLine}";
    GrpcComparison.WriteInto(grpcOutput, GrpcComparison.Render(grpcMachine, grpcRuns, cpu, seconds, 16, connectionCounts));
    Console.WriteLine($"Wrote the gRPC comparison into {grpcOutput}");
    foreach (var c in channels)
    {
        c.Dispose();
    }
}

var shadowOut = Arg("--shadow-out") ?? Path.Combine(FindRepositoryRoot(), "bench", "results", "shadow.md");
if (shadowOnly || grpcOnly)
{
    await (shadowOnly ? RunShadowAsync(Arg("--out") ?? shadowOut) : RunGrpcAsync(output));
    DeleteDataDir();
    return;
}

// The gateway hop, one loop per encoding cycling request by request through the scorer directly, the gateway, YARP's bare direct
// forwarder in its own process, and the same forwarder marking bodies over 64 KiB `Expect: 100-continue` as the gateway does
// (EarlyAnswers:MinBodyBytes): all four see the same moment-to-moment load, and the last two show what that round trip costs alone.
const string HopPath = "/v2/models/bench-conv-unbatched/infer";
// --hop-settle-seconds: the most the hop loop runs unrecorded waiting for the proxies' JIT to settle (0 measures at once, as before).
var hopSettleSeconds = double.Parse(Arg("--hop-settle-seconds") ?? "30", CultureInfo.InvariantCulture);
var hopSettling = new Dictionary<string, (TimeSpan Ran, double LastJitMs)>();
var (bareProxy, bareProxyUrl) = await BareProxy.StartAsync(scorerUrl);
var (expectProxy, expectProxyUrl) = await BareProxy.StartAsync(scorerUrl, expectContinueOverBytes: 64 * 1024);
using (var bare = NewClient(bareProxyUrl, (PlatformHeaders.InternalKey, InternalKey)))
using (var expect = NewClient(expectProxyUrl, (PlatformHeaders.InternalKey, InternalKey)))
{
    foreach (var binary in new[] { false, true })
    {
        var encoding = binary ? "binary" : "JSON";
        foreach (var proxy in new[] { bare, expect })
        {
            await LoadRunner.RunAsync("warm-up", 8, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(0.1), Sender(proxy, HopPath, binary));
        }
        (string, Func<CancellationToken, Task<bool>>)[] hopTargets =
        [
            ($"hop pair: scorer direct, batching off, {encoding}", Sender(direct, HopPath, binary)),
            ($"hop pair: gateway, batching off, {encoding}", Sender(gateway, HopPath, binary)),
            ($"hop pair: bare YARP forwarder, batching off, {encoding}", Sender(bare, HopPath, binary)),
            ($"hop pair: bare YARP forwarder, Expect: 100-continue over 64 KiB, batching off, {encoding}", Sender(expect, HopPath, binary)),
        ];
        // The steady state's hop: the same loop, unrecorded, until the three proxies' JIT has settled (JitSettling says why).
        var (settleTime, settleJitMs) = await JitSettling.WarmAsync([.. ProcessSchedule.FindByUrl(gatewayUrl), bareProxy.Id, expectProxy.Id],
            TimeSpan.FromSeconds(hopSettleSeconds), 10, hopTargets);
        hopSettling[encoding] = (settleTime, settleJitMs);
        Console.WriteLine($"hop loop, {encoding}: JIT settled after {settleTime.TotalSeconds:F0} s (last second: {settleJitMs:F1} ms of tiered compilation in the proxies)");
        foreach (var m in await LoadRunner.RunInterleavedAsync(warmup, duration * 2, hopTargets))
        {
            Record(m);
        }
    }
}
foreach (var proxy in new[] { bareProxy, expectProxy })
{
    proxy.StandardInput.Close();
    await proxy.WaitForExitAsync();
}
// What reading the body as JSON costs the scorer: one client alternating JSON and binary requests to it, as for the hop.
{
    var (json, binary) = await LoadRunner.RunPairedAsync("scorer alone pair: JSON, batching off", "scorer alone pair: binary, batching off",
        warmup, duration * 2, Sender(direct, HopPath, binary: false), Sender(direct, HopPath, binary: true));
    Record(json);
    Record(binary);
}

// Where the hop's time goes, per proxied request: the gateway process's CPU time from /proc/<pid>/stat, which counts every thread,
// including thread-pool threads that retire during the run (schedstat loses those); and the time its threads were runnable but waiting
// for a core, which only schedstat has, per live thread, so it counts the threads alive at the end of the run and is a lower bound.
var gatewayPids = ProcessSchedule.FindByUrl(gatewayUrl);
if (gatewayPids.Count > 0)
{
    // Idle first: what the gateway burns with no requests (telemetry export, health probes) is subtracted from the per-request cost.
    // /proc/<pid>/stat counts 10 ms ticks: a few ms of error against the several hundred ms the gateway spends on the run's requests.
    var (idleCpuStart, idleThreadsStart) = (ProcessSchedule.ReadCpuMs(gatewayPids), ProcessSchedule.ReadThreads(gatewayPids));
    var idleClock = System.Diagnostics.Stopwatch.StartNew();
    await Task.Delay(TimeSpan.FromSeconds(3));
    var (cpuBefore, threadsBefore) = (ProcessSchedule.ReadCpuMs(gatewayPids), ProcessSchedule.ReadThreads(gatewayPids));
    var idleSeconds = idleClock.Elapsed.TotalSeconds;
    var idleCpuMsPerSecond = (cpuBefore - idleCpuStart) / idleSeconds;
    var idleWaitNsPerSecond = ProcessSchedule.Since(idleThreadsStart, threadsBefore).Sum(t => t.WaitNs) / idleSeconds;
    var busyClock = System.Diagnostics.Stopwatch.StartNew();
    var (_, proxiedAgain) = await LoadRunner.RunPairedAsync("hop cost: scorer direct", "hop cost: gateway", TimeSpan.Zero, duration,
        Sender(direct, "/v2/models/bench-conv-unbatched/infer", true), Sender(gateway, "/v2/models/bench-conv-unbatched/infer", true));
    var (cpuAfter, threadsAfter) = (ProcessSchedule.ReadCpuMs(gatewayPids), ProcessSchedule.ReadThreads(gatewayPids));
    var busySeconds = busyClock.Elapsed.TotalSeconds;
    var busyThreads = ProcessSchedule.Since(threadsBefore, threadsAfter).ToList();
    foreach (var (thread, ns) in busyThreads.GroupBy(t => t.Name).Select(g => (g.Key, g.Sum(t => t.CpuNs))).OrderByDescending(t => t.Item2).Take(8))
    {
        Console.WriteLine($"  gateway thread '{thread}': {ns / 1e6:F1} ms on CPU during the hop-cost run");
    }
    Console.WriteLine($"  gateway CPU during the hop-cost run: {cpuAfter - cpuBefore:F0} ms (/proc/<pid>/stat, every thread), "
        + $"{busyThreads.Sum(t => t.CpuNs) / 1e6:F1} ms on the threads alive at its end (schedstat)");
    hopCost = new HopCost(proxiedAgain.Requests,
        (cpuAfter - cpuBefore - idleCpuMsPerSecond * busySeconds) * 1000.0 / proxiedAgain.Requests,
        (busyThreads.Sum(t => t.WaitNs) - idleWaitNsPerSecond * busySeconds) / 1000.0 / proxiedAgain.Requests, proxiedAgain.P50Ms,
        idleCpuMsPerSecond);
    Console.WriteLine($"gateway (pids {string.Join(',', gatewayPids)}) per proxied request (binary, c1): {hopCost.CpuMicroseconds:F0} us on CPU, "
        + $"at least {hopCost.RunQueueMicroseconds:F0} us waiting for a CPU");
}

if (hopOnly)
{
    if (holdSeconds > 0)
    {
        // --hold-load "gateway|direct,<concurrency>,json|binary,on|off" picks what the held load is (default gateway,1,binary,off).
        var hold = (Arg("--hold-load") ?? "gateway,1,binary,off").Split(',');
        var (holdClient, holdConcurrency, holdBinary, holdBatched) = (hold[0] == "direct" ? direct : gateway, int.Parse(hold[1], CultureInfo.InvariantCulture), hold[2] == "binary", hold[3] == "on");
        Console.WriteLine($"Holding load {string.Join(',', hold)} for {holdSeconds} s (gateway pids {string.Join(',', ProcessSchedule.FindByUrl(gatewayUrl))}; scorer pids {string.Join(',', ProcessSchedule.FindByUrl(scorerUrl))})");
        var (gatewayPidList, scorerPidList) = (ProcessSchedule.FindByUrl(gatewayUrl), ProcessSchedule.FindByUrl(scorerUrl));
        var (gatewayCpu, scorerCpu, ownCpu) = (ProcessSchedule.ReadCpuMs(gatewayPidList), ProcessSchedule.ReadCpuMs(scorerPidList), Environment.CpuUsage.TotalTime.TotalMilliseconds);
        var held = await LoadRunner.RunAsync($"hold: {string.Join(',', hold)}", holdConcurrency, TimeSpan.Zero, TimeSpan.FromSeconds(holdSeconds),
            Sender(holdClient, $"/v2/models/{(holdBatched ? "bench-conv-batched" : "bench-conv-unbatched")}/infer", holdBinary));
        Record(held);
        Console.WriteLine($"CPU per request: gateway {(ProcessSchedule.ReadCpuMs(gatewayPidList) - gatewayCpu) / held.Requests:F3} ms, " +
            $"scorer {(ProcessSchedule.ReadCpuMs(scorerPidList) - scorerCpu) / held.Requests:F3} ms, load generator {(Environment.CpuUsage.TotalTime.TotalMilliseconds - ownCpu) / held.Requests:F3} ms");
    }
    // The three registered models (~66 MB with their copies): a profiling session of a few runs must not fill the shared disk.
    DeleteDataDir();
    return;
}

// Rows of the run that served each request (the scorer's mlplatform.inference.batch.size histogram), averaged per scenario.
var batchRows = new Dictionary<(string, int), double>();
async Task<(double Sum, double Count)> ScrapeBatchRowsAsync(string model)
{
    var text = await direct.GetStringAsync("/metrics");
    double sum = 0, count = 0;
    foreach (var line in text.Split('\n'))
    {
        if (!line.StartsWith("mlplatform_inference_batch_size", StringComparison.Ordinal) || !line.Contains($"\"{model}\"", StringComparison.Ordinal))
        {
            continue;
        }
        var value = double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        var name = line[..line.IndexOf('{')];
        if (name.EndsWith("_sum", StringComparison.Ordinal))
        {
            sum += value;
        }
        else if (name.EndsWith("_count", StringComparison.Ordinal))
        {
            count += value;
        }
    }
    return (sum, count);
}

foreach (var (target, client) in new[] { ("scorer direct", direct), ("gateway", gateway) })
{
    foreach (var batching in new[] { true, false })
    {
        foreach (var binary in new[] { false, true })
        {
            foreach (var c in concurrencies)
            {
                var model = batching ? "bench-conv-batched" : "bench-conv-unbatched";
                var before = await ScrapeBatchRowsAsync(model);
                var measured = await LoadRunner.RunAsync($"{target}, batching {(batching ? "on" : "off")}, {(binary ? "binary" : "JSON")}",
                    c, warmup, duration, Sender(client, $"/v2/models/{model}/infer", binary));
                Record(measured);
                if (batching)
                {
                    var after = await ScrapeBatchRowsAsync(model);
                    batchRows[(measured.Scenario, c)] = (after.Sum - before.Sum) / Math.Max(1, after.Count - before.Count);
                }
            }
        }
    }
}

// The targets: every scenario a target ratio needs, measured round after round (TargetRounds), the ratios taken from the medians.
List<Measurement> targetRuns;
var targetRounds = int.Parse(Arg("--rounds") ?? "3", CultureInfo.InvariantCulture);
using (var roundModel = OnnxModel.Load(modelPath, new OnnxSessionOptions()))
await using (var naive = await NaiveEndpoint.StartAsync(modelPath))
using (var naiveClient = NewClient(naive.Url))
using (var roundInput = TensorBuffer.FromValues<float>("image", TensorDataType.FP32, [1, 3, imageHeight, imageWidth], Image(1)))
{
    Task<Measurement> Load(string scenario, HttpClient client, string path, bool binary, int c) =>
        LoadRunner.RunAsync(scenario, c, warmup, duration, Sender(client, path, binary));
    targetRuns = await TargetRounds.RunAsync(targetRounds,
    [
        (TargetRounds.InProcess, scenario => Task.FromResult(LoadRunner.RunSync(scenario, warmup, duration, () =>
        {
            foreach (var o in roundModel.Run([roundInput], roundModel.OutputNames))
            {
                o.Dispose();
            }
        }, 1))),
        (TargetRounds.HandWritten16, scenario => Load(scenario, naiveClient, "/infer", false, 16)),
        (TargetRounds.GatewayJson16, scenario => Load(scenario, gateway, "/v2/models/bench-conv-batched/infer", false, 16)),
        (TargetRounds.GatewayBinary16, scenario => Load(scenario, gateway, "/v2/models/bench-conv-batched/infer", true, 16)),
        (TargetRounds.GatewayJson8On, scenario => Load(scenario, gateway, "/v2/models/bench-conv-batched/infer", false, 8)),
        (TargetRounds.GatewayJson8Off, scenario => Load(scenario, gateway, "/v2/models/bench-conv-unbatched/infer", false, 8)),
        (TargetRounds.GatewayJson8Delay, scenario => Load(scenario, gateway, "/v2/models/bench-conv-batched-delay/infer", false, 8)),
    ], Record);
}
var loadAtEnd = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
machine += $"- Load average at end: {loadAtEnd}{Environment.NewLine}";
var modelDescription = large
    ? args.Contains("--large-cheap")
        ? $"a generated large-input model (bench/OnlineBench/LargeInputModel.cs: FP32 [N,3,48,192] -> 4x4 stride-4 conv to 4 channels -> ReduceMean -> [N,4], cheap so that reading the tensor dominates); JSON bodies {jsonBody.Length} bytes (four decimals per value), binary {binaryBody.Length} bytes"
        : $"a generated large-input CNN (bench/OnlineBench/LargeInputModel.cs WriteCnn: FP32 [N,3,48,192] -> 3x3/2 conv 32 -> 3x3/2 conv 64 -> 3x3 conv 64 (ReLU after each) -> dense 256 (38 MB of weights) + ReLU -> dense 10; `--large-cheap` for the near-free graph where reading the tensor is all); JSON bodies {jsonBody.Length} bytes (four decimals per value), binary {binaryBody.Length} bytes"
    : null;
var settled = string.Join(", ", hopSettling.Select(h => FormattableString.Invariant($"{h.Key} {h.Value.Ran.TotalSeconds:F0} s ({h.Value.LastJitMs:F1} ms of JIT in its last second)")));
var bodies = $"request bodies: JSON {jsonBody.Length} bytes, binary {binaryBody.Length} bytes; before it is recorded the loop runs until the three "
    + $"proxies' tiered compilation threads spend at most 10 ms in a second, at most {hopSettleSeconds} s (`--hop-settle-seconds`; bench/OnlineBench/JitSettling.cs): {settled}";
await File.WriteAllTextAsync(output, Report.Render(machine, results, seconds, hopCost, batchRows, maxQueueDelayMs, modelDescription, concurrencies,
    TargetRounds.Render(targetRuns, large, results), bodies));
Console.WriteLine($"Wrote {output}");
// One platform start for everything: the gRPC comparison and the shadow bench on the same platform, after the rest.
if (args.Contains("--with-grpc"))
{
    await RunGrpcAsync(output);
}
if (args.Contains("--with-shadow"))
{
    await RunShadowAsync(shadowOut);
}
DeleteDataDir();
return;

void DeleteDataDir()
{
    try
    {
        Directory.Delete(dataDir, recursive: true);
    }
    catch (IOException)
    {
    }
}

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
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

static string DescribeMachine()
{
    var cpu = File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
        : null;
    var memory = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").First().Split(':', 2)[1].Trim() : "?";
    var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
    var sb = new StringBuilder();
    sb.AppendLine($"- CPU: {cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}, {Environment.ProcessorCount} logical cores");
    sb.AppendLine($"- Memory: {memory}");
    sb.AppendLine($"- OS: {RuntimeInformation.OSDescription}; .NET {Environment.Version}; ONNX Runtime 1.31.1 (CPU)");
    sb.AppendLine($"- Load average at start (1/5/15 min, shared machine): {load}");
    // A loaded machine's figures show that the bench runs, not where the platform stands: say so in the report itself.
    if (double.TryParse(load.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var oneMinute) && oneMinute > Environment.ProcessorCount * 0.75)
    {
        sb.AppendLine($"- **Loaded machine: a 1-minute load average of {oneMinute:F1} on {Environment.ProcessorCount} cores at start. These figures only show that the bench runs; do not read the targets from them (rerun `bench/run-quiet.sh` on a quiet machine).**");
    }
    sb.AppendLine($"- Date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
    return sb.ToString();
}
