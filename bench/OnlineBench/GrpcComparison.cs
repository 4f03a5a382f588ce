using System.Globalization;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MlPlatform.GrpcContracts;

namespace MlPlatform.Bench;

/// <summary>
/// Issue 17's target: through the gateway at c16, gRPC <c>ModelInfer</c> with raw contents against REST with the binary tensor extension
/// on the same image and model. The two alternate run by run (REST, gRPC, REST, gRPC…) so that both see the shared machine's load
/// drift alike; the report keeps every run and compares the medians.
/// </summary>
public static class GrpcComparison
{
    public const string StartMarker = "<!-- grpc-vs-rest:start -->";
    public const string EndMarker = "<!-- grpc-vs-rest:end -->";

    /// <summary>The scenario label of gRPC runs whose calls go over <paramref name="connections"/> channels (HTTP/2 connections).</summary>
    public static string Label(int connections) => connections == 1 ? "gRPC raw" : $"gRPC raw over {connections} connections";

    /// <summary>
    /// A gRPC sender of one image with raw contents, presenting <paramref name="apiKey"/>; binary outputs (raw) come back. Calls take the
    /// <paramref name="channels"/> in turn (each channel has its own handler, so its own HTTP/2 connection).
    /// </summary>
    public static Func<CancellationToken, Task<bool>> Sender(IReadOnlyList<GrpcChannel> channels, string apiKey, string model, string input, float[] image,
        IReadOnlyList<long> shape, (string Name, string Value)? extraHeader = null)
    {
        var clients = channels.Select(c => new GRPCInferenceService.GRPCInferenceServiceClient(c)).ToArray();
        long turn = 0;
        var request = new ModelInferRequest
        {
            ModelName = model,
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = input, Datatype = "FP32", Shape = { shape } } },
            RawInputContents = { ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(image.AsSpan())) },
        };
        var headers = new Metadata { { "authorization", $"Bearer {apiKey}" } };
        if (extraHeader is { } extra)
        {
            headers.Add(extra.Name.ToLowerInvariant(), extra.Value);
        }
        return async ct =>
        {
            try
            {
                var client = clients[(int)(Interlocked.Increment(ref turn) % clients.Length)];
                var response = await client.ModelInferAsync(request, headers, cancellationToken: ct);
                return response.RawOutputContents.Count > 0;
            }
            catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
            {
                return false;
            }
        };
    }

    /// <summary>CPU time per request of each process during one run (<c>/proc/{pid}/stat</c>, 10 ms ticks; warm-up included).</summary>
    public sealed record CpuCost(string Scenario, long Requests, double GatewayMs, double ScorerMs, double ClientMs);

    /// <summary>The markdown section: every run, then per model the median ratios against the targets.</summary>
    public static string Render(string machine, IReadOnlyList<Measurement> runs, IReadOnlyList<CpuCost> cpu, double seconds, int concurrency,
        IReadOnlyList<int> connectionCounts)
    {
        var connections = string.Join(" and ", connectionCounts.Select(n => n == 1 ? "one HTTP/2 connection" : $"{n} HTTP/2 connections (channels taken in turn)"));
        var sb = new StringBuilder();
        sb.AppendLine(StartMarker);
        sb.AppendLine("## gRPC raw contents vs REST binary tensors through the gateway (issue 17)");
        sb.AppendLine();
        sb.AppendLine($"Written by `dotnet bench/OnlineBench/bin/Release/net10.0/OnlineBench.dll --grpc` (bench/OnlineBench/GrpcComparison.cs), Release build of the platform. ");
        sb.AppendLine($"The same image (FP32 [1,3,32,32]) to the bench CNN through the gateway at c{concurrency}: REST `POST /v2/models/{{name}}/infer` with the binary tensor "
            + "extension (binary output too) on port 8000's endpoint, and gRPC `ModelInfer` with `raw_input_contents` (raw outputs back) on the gateway's gRPC endpoint, "
            + $"{connections}; REST's client opens one HTTP/1.1 connection per concurrent request (16). Both paths are first warmed alike (REST and gRPC alternately, 3 × 1.5 s each per model), then runs "
            + $"alternate REST, gRPC, REST, gRPC… ({seconds:0.#} s each after 1 s warm-up), so both see the shared machine alike; "
            + "the ratios compare the medians of each side's runs. Where each path's CPU goes (perf): docs/online-scorer.md, Performance notes.");
        sb.AppendLine();
        sb.AppendLine(machine);
        sb.AppendLine("| run | concurrency | images/s | p50 ms | p99 ms | requests | errors |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var m in runs)
        {
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {m.Scenario} | {m.Concurrency} | {m.Throughput:F1} | {m.P50Ms:F3} | {m.P99Ms:F3} | {m.Requests} | {m.Errors} |"));
        }
        sb.AppendLine();
        sb.AppendLine("CPU time per request of each process (utime + stime from `/proc/{pid}/stat` over the run, its warm-up and requests included):");
        sb.AppendLine();
        sb.AppendLine("| run | requests | gateway ms | scorer ms | bench client ms | total ms |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var c in cpu)
        {
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Scenario} | {c.Requests} | {c.GatewayMs:F3} | {c.ScorerMs:F3} | {c.ClientMs:F3} | {c.GatewayMs + c.ScorerMs + c.ClientMs:F3} |"));
        }
        sb.AppendLine();
        sb.AppendLine("| model | REST binary images/s (median) | gRPC raw images/s (median) | gRPC / REST throughput (target ≥ 1.0) | met | REST p50 ms | gRPC p50 ms | gRPC p50 no worse? |");
        sb.AppendLine("|---|---:|---:|---:|---|---:|---:|---|");
        foreach (var model in runs.Select(r => ModelOf(r.Scenario)).Distinct())
        {
            var rest = runs.Where(r => ModelOf(r.Scenario) == model && r.Scenario.StartsWith("REST", StringComparison.Ordinal)).ToList();
            foreach (var label in connectionCounts.Select(Label))
            {
                var grpc = runs.Where(r => ModelOf(r.Scenario) == model && r.Scenario.StartsWith(label + ",", StringComparison.Ordinal)).ToList();
                var (restRate, grpcRate) = (Median(rest.Select(r => r.Throughput)), Median(grpc.Select(r => r.Throughput)));
                var (restP50, grpcP50) = (Median(rest.Select(r => r.P50Ms)), Median(grpc.Select(r => r.P50Ms)));
                var name = label == Label(1) ? model : $"{model} ({label})";
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {restRate:F1} | {grpcRate:F1} | {grpcRate / restRate:F2} | {(grpcRate >= restRate ? "yes" : "**no**")} | {restP50:F3} | {grpcP50:F3} | {(grpcP50 <= restP50 ? "yes" : "**no**")} |"));
            }
        }
        sb.AppendLine(EndMarker);
        return sb.ToString();
    }

    /// <summary>Replaces this comparison's section of <paramref name="path"/> (or appends it), leaving the rest of the report as it was.</summary>
    public static void WriteInto(string path, string section)
    {
        var text = File.Exists(path) ? File.ReadAllText(path) : "";
        var start = text.IndexOf(StartMarker, StringComparison.Ordinal);
        var end = text.IndexOf(EndMarker, StringComparison.Ordinal);
        text = start >= 0 && end > start
            ? string.Concat(text.AsSpan(0, start), section.TrimEnd(), text.AsSpan(end + EndMarker.Length))
            : text.TrimEnd() + Environment.NewLine + Environment.NewLine + section;
        File.WriteAllText(path, text);
    }

    private static string ModelOf(string scenario) => scenario[(scenario.IndexOf(',', StringComparison.Ordinal) + 2)..scenario.LastIndexOf(',')];

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
