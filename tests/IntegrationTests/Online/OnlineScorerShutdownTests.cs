using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Online;

[Collection(OnlineScorerDrainCollection.Name)]
public sealed class OnlineScorerShutdownTests(OnlineScorerDrainFixture platform)
{
    [Fact]
    public async Task OnSigtermInFlightRequestsFinishNewOnesAreRefusedAndTheProcessExits()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("drain");
        var (version, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", version);
        const int inFlight = 4;
        var inputs = Enumerable.Range(0, inFlight).Select(i => LinearInput(i + 0.5f, rows: i + 1)).ToArray();
        var expected = ExpectedScores(inputs);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scorer = await ScorerProcess.FindAsync(platform);

        // Requests whose bodies stop half way until the gate opens: the scorer is reading them when SIGTERM arrives.
        var requests = inputs.Select(input => SendHeldAsync(client, $"/v2/models/{name}/infer", input, gate.Task)).ToArray();
        await scorer.WaitForActiveInferRequestsAsync(inFlight);

        var signalled = Stopwatch.StartNew();
        scorer.Terminate();

        // The listener closes at once: the gateway cannot connect any more, so new requests get its 503 with Retry-After in the V2 shape
        // (nothing reached the scorer, so a client may send them again).
        await EventuallyAsync(async () =>
        {
            // The scorer's own "not ready" (also 503) may come first over a kept-alive connection; wait for the gateway's.
            using var ready = await client.GetAsync("/v2/health/ready").WaitAsync(PlatformFixture.RequestTimeout);
            if (ready.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                return false;
            }
            // The V2 error body is JSON, whose writer escapes the apostrophes: compare the decoded message.
            using var error = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
            return error.RootElement.TryGetProperty("error", out var message)
                && message.GetString()!.StartsWith("No live instance of 'onlinescorer'", StringComparison.Ordinal);
        }, "readiness through the gateway fails once the scorer stops accepting");
        using (var refusedInput = LinearInput(9f))
        {
            var (status, body, message) = await PostJsonAsync(client, $"/v2/models/{name}/infer", JsonRequest(refusedInput));
            using (message)
            using (body)
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                Assert.Equal(TimeSpan.FromSeconds(1), message.Headers.RetryAfter?.Delta);
                Assert.Equal("No live instance of 'onlinescorer' is accepting requests (starting, restarting, stopped or shutting down); retry after 1 s.",
                    body.RootElement.GetProperty("error").GetString());
            }
        }
        Assert.False(scorer.HasExited, "the scorer must wait for the requests it is still reading");
        Assert.All(requests, r => Assert.False(r.IsCompleted));

        gate.SetResult();
        var answers = await Task.WhenAll(requests).WaitAsync(PlatformFixture.RequestTimeout);
        var answered = Stopwatch.StartNew();
        for (var i = 0; i < inFlight; i++)
        {
            var (status, body) = answers[i];
            Assert.True(status == HttpStatusCode.OK, $"in-flight request {i} answered {(int)status}: {Encoding.UTF8.GetString(body)}");
            using var answer = InferClientCodec.ReadResponse(body, null);
            Assert.Equal("1", answer.ModelVersion);
            AssertClose(expected[i], answer["scores"].AsSpan<float>());
        }

        var exitCode = await scorer.WaitForExitAsync();
        Assert.Equal(0, exitCode);
        // Well inside the 30 s drain time: the scorer goes as soon as its last request is answered and its telemetry flush gives up.
        Assert.True(answered.Elapsed < TimeSpan.FromSeconds(platform.FlushSeconds + 8), $"the scorer took {answered.Elapsed} to exit after its last request");
        Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(platform.DrainSeconds), $"the scorer took {signalled.Elapsed} to exit after SIGTERM");
        foreach (var input in inputs)
        {
            input.Dispose();
        }
    }

    private static float[][] ExpectedScores(TensorBuffer[] inputs)
    {
        using var model = LoadLocally("linear-v1.onnx");
        return inputs.Select(input =>
        {
            var outputs = model.Run([input], ["scores"]);
            try
            {
                return outputs[0].AsSpan<float>().ToArray();
            }
            finally
            {
                foreach (var output in outputs)
                {
                    output.Dispose();
                }
            }
        }).ToArray();
    }

    /// <summary>Posts a JSON infer request whose body stops half way until <paramref name="gate"/> completes.</summary>
    internal static async Task<(HttpStatusCode Status, byte[] Body)> SendHeldAsync(HttpClient client, string path, TensorBuffer input, Task gate)
    {
        using var content = new HeldContent(Encoding.UTF8.GetBytes(JsonRequest(input)), gate);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var message = await client.PostAsync(path, content).WaitAsync(PlatformFixture.RequestTimeout * 2);
        return (message.StatusCode, await message.Content.ReadAsByteArrayAsync());
    }

    internal static string JsonRequest(TensorBuffer input)
    {
        var writer = new ArrayBufferWriter<byte>();
        InferClientCodec.WriteRequest(writer, null, [input], binaryInputs: false);
        return Encoding.UTF8.GetString(writer.WrittenSpan);
    }

    private sealed class HeldContent(byte[] body, Task gate) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var half = body.Length / 2;
            await stream.WriteAsync(body.AsMemory(0, half));
            await stream.FlushAsync();
            await gate;
            await stream.WriteAsync(body.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}

[Collection(OnlineScorerDrainBoundCollection.Name)]
public sealed class OnlineScorerShutdownBoundTests(OnlineScorerDrainBoundFixture platform)
{
    [Fact]
    public async Task OnSigtermARequestThatNeverFinishesDoesNotHoldTheProcessBeyondTheDrainTime()
    {
        using var client = platform.CreateGatewayClient();
        var name = UniqueName("drain");
        var (version, _) = await RegisterAsync(client, name, "linear-v1.onnx");
        await SetAliasAsync(client, name, "production", version);
        var scorer = await ScorerProcess.FindAsync(platform);
        using var input = LinearInput(1f);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = OnlineScorerShutdownTests.SendHeldAsync(client, $"/v2/models/{name}/infer", input, gate.Task);
        await scorer.WaitForActiveInferRequestsAsync(1);

        var signalled = Stopwatch.StartNew();
        scorer.Terminate();
        var exitCode = await scorer.WaitForExitAsync();
        var took = signalled.Elapsed;

        Assert.Equal(0, exitCode);
        // Kestrel gives up on the request after the drain time, the telemetry flush after its bound; the rest of the shutdown is quick.
        Assert.True(took >= TimeSpan.FromSeconds(platform.DrainSeconds - 0.5), $"the scorer exited after {took}, before its drain time");
        Assert.True(took < TimeSpan.FromSeconds(platform.DrainSeconds + platform.FlushSeconds + 8),
            $"the scorer took {took} to exit; its drain time is {platform.DrainSeconds} s, its telemetry flush bound {platform.FlushSeconds} s");
        gate.SetResult();
        var (status, body) = await held;
        Assert.Equal(HttpStatusCode.BadGateway, status);
        using var error = JsonDocument.Parse(body);
        Assert.Equal("The backend could not be reached (Request).", error.RootElement.GetProperty("error").GetString());
    }
}

/// <summary>The online scorer's own process, found from its Aspire resource (the AppHost starts it as <c>dotnet OnlineScorer.dll</c>, or under <c>dotnet run</c>).</summary>
internal sealed class ScorerProcess(PlatformFixture platform, int processId)
{
    private const int SigTerm = 15;

    public int ProcessId { get; } = processId;

    public bool HasExited => !File.Exists($"/proc/{ProcessId}/stat") || ReadStat(ProcessId).State == 'Z';

    public static async Task<ScorerProcess> FindAsync(PlatformFixture platform)
    {
        var running = await platform.App.ResourceNotifications
            .WaitForResourceAsync("onlinescorer", e => e.Snapshot.State?.Text == KnownResourceStates.Running)
            .WaitAsync(PlatformFixture.RequestTimeout);
        var launcher = Convert.ToInt32(running.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value, CultureInfo.InvariantCulture);
        var candidates = new Queue<int>([launcher]);
        while (candidates.TryDequeue(out var pid))
        {
            var command = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            if (Path.GetFileName(command[0]) == "OnlineScorer" || command.Any(a => a.EndsWith("OnlineScorer.dll", StringComparison.Ordinal)))
            {
                return new ScorerProcess(platform, pid);
            }
            foreach (var child in ChildrenOf(pid))
            {
                candidates.Enqueue(child);
            }
        }
        throw new Xunit.Sdk.XunitException($"No OnlineScorer process under the resource's process {launcher}.");
    }

    /// <summary>Sends SIGTERM, as an orchestrator does to stop a container.</summary>
    public void Terminate()
    {
        if (kill(ProcessId, SigTerm) != 0)
        {
            throw new Xunit.Sdk.XunitException($"kill({ProcessId}, SIGTERM) failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>Waits until the scorer serves <paramref name="count"/> POSTs at once (its own <c>http.server.active_requests</c>).</summary>
    public async Task WaitForActiveInferRequestsAsync(int count)
    {
        using var direct = platform.App.CreateHttpClient("onlinescorer", "http");
        double active = 0;
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            var metrics = await direct.GetStringAsync("/metrics").WaitAsync(PlatformFixture.RequestTimeout);
            active = metrics.Split('\n')
                .Where(l => l.StartsWith("http_server_active_requests{", StringComparison.Ordinal) && l.Contains("http_request_method=\"POST\"", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
            return active >= count;
        }, $"the scorer serves {count} requests at once");
    }

    /// <summary>Waits for the resource to reach a terminal state and returns its exit code.</summary>
    public async Task<int?> WaitForExitAsync()
    {
        var exited = await platform.App.ResourceNotifications
            .WaitForResourceAsync("onlinescorer", e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text))
            .WaitAsync(PlatformFixture.RequestTimeout);
        await OnlineScorerClient.EventuallyAsync(() => Task.FromResult(HasExited), $"process {ProcessId} is gone");
        return exited.Snapshot.ExitCode;
    }

    private static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && File.Exists($"{dir}/stat"))
            {
                int parentOfPid;
                try
                {
                    parentOfPid = ReadStat(pid).Ppid;
                }
                catch (IOException)
                {
                    continue;
                }
                if (parentOfPid == parent)
                {
                    yield return pid;
                }
            }
        }
    }

    /// <summary>Parent id and state from <c>/proc/{pid}/stat</c> ("pid (comm) state ppid ...", comm may contain spaces).</summary>
    private static (int Ppid, char State) ReadStat(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[1], CultureInfo.InvariantCulture), fields[0][0]);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
