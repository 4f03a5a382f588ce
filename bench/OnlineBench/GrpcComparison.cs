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

    /// <summary>A gRPC sender of one image with raw contents, presenting <paramref name="apiKey"/>; binary outputs (raw) come back.</summary>
    public static Func<CancellationToken, Task<bool>> Sender(GrpcChannel channel, string apiKey, string model, string input, float[] image,
        IReadOnlyList<long> shape)
    {
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var request = new ModelInferRequest
        {
            ModelName = model,
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = input, Datatype = "FP32", Shape = { shape } } },
            RawInputContents = { ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(image.AsSpan())) },
        };
        var headers = new Metadata { { "authorization", $"Bearer {apiKey}" } };
        return async ct =>
        {
            try
            {
                var response = await client.ModelInferAsync(request, headers, cancellationToken: ct);
                return response.RawOutputContents.Count > 0;
            }
            catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
            {
                return false;
            }
        };
    }

    /// <summary>The markdown section: every run, then per model the median ratios against the targets.</summary>
    public static string Render(string machine, IReadOnlyList<Measurement> runs, double seconds, int concurrency)
    {
        var sb = new StringBuilder();
        sb.AppendLine(StartMarker);
        sb.AppendLine("## gRPC raw contents vs REST binary tensors through the gateway (issue 17)");
        sb.AppendLine();
        sb.AppendLine($"Written by `dotnet bench/OnlineBench/bin/Release/net10.0/OnlineBench.dll --grpc` (bench/OnlineBench/GrpcComparison.cs), Release build of the platform. ");
        sb.AppendLine($"The same image (FP32 [1,3,32,32]) to the bench CNN through the gateway at c{concurrency}: REST `POST /v2/models/{{name}}/infer` with the binary tensor "
            + "extension (binary output too) on port 8000's endpoint, and gRPC `ModelInfer` with `raw_input_contents` (raw outputs back) on the gateway's gRPC endpoint, "
            + $"one HTTP/2 connection. Runs alternate REST, gRPC, REST, gRPC… ({seconds:0.#} s each after 1 s warm-up), so both see the shared machine alike; "
            + "the ratios compare the medians of each side's runs.");
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
        sb.AppendLine("| model | REST binary images/s (median) | gRPC raw images/s (median) | gRPC / REST throughput (target ≥ 1.0) | met | REST p50 ms | gRPC p50 ms | gRPC p50 no worse? |");
        sb.AppendLine("|---|---:|---:|---:|---|---:|---:|---|");
        foreach (var model in runs.Select(r => ModelOf(r.Scenario)).Distinct())
        {
            var rest = runs.Where(r => ModelOf(r.Scenario) == model && r.Scenario.StartsWith("REST", StringComparison.Ordinal)).ToList();
            var grpc = runs.Where(r => ModelOf(r.Scenario) == model && r.Scenario.StartsWith("gRPC", StringComparison.Ordinal)).ToList();
            var (restRate, grpcRate) = (Median(rest.Select(r => r.Throughput)), Median(grpc.Select(r => r.Throughput)));
            var (restP50, grpcP50) = (Median(rest.Select(r => r.P50Ms)), Median(grpc.Select(r => r.P50Ms)));
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {model} | {restRate:F1} | {grpcRate:F1} | {grpcRate / restRate:F2} | {(grpcRate >= restRate ? "yes" : "**no**")} | {restP50:F3} | {grpcP50:F3} | {(grpcP50 <= restP50 ? "yes" : "**no**")} |"));
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
