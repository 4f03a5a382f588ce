using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.Bench;

/// <summary>
/// <c>--parse</c>: what the scorer spends decoding a large request body, in CPU time of the measuring thread
/// (<c>CLOCK_THREAD_CPUTIME_ID</c>), which time spent waiting for a core does not inflate: on a shared machine wall time is not
/// comparable from run to run, this is. Variants are interleaved round by round and the median round is reported.
/// </summary>
public static class ParseBench
{
    public static string Run(int rounds)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| body | bytes | decode CPU us/call (median of rounds) |");
        sb.AppendLine("|---|---:|---:|");
        var limits = new InferRequestLimits(10_000_000);
        foreach (var (height, width) in new[] { (48, 192), (224, 224) })
        {
            var values = LargeInputModel.Image(height, width);
            using var tensor = TensorBuffer.FromValues<float>("image", TensorDataType.FP32, [1, 3, height, width], values);
            var binaryWriter = new ArrayBufferWriter<byte>();
            var headerLength = InferClientCodec.WriteRequest(binaryWriter, null, [tensor], binaryInputs: true, binaryOutputs: true);
            var binary = binaryWriter.WrittenSpan.ToArray();
            var bodies = new List<(string Name, byte[] Body, int? HeaderLength)> { ($"[1,3,{height},{width}] binary", binary, headerLength) };
            foreach (var format in new[] { "4", "R", "R64" })
            {
                bodies.Add(($"[1,3,{height},{width}] JSON {Describe(format)}", LargeInputModel.JsonBody(values, height, width, format), null));
            }
            var iterations = Math.Max(5, 2_000_000 / binary.Length);
            var samples = bodies.Select(_ => new List<double>()).ToArray();
            for (var round = 0; round < rounds; round++)
            {
                for (var b = 0; b < bodies.Count; b++)
                {
                    var (_, body, header) = bodies[b];
                    var start = ThreadCpuNs();
                    for (var i = 0; i < iterations; i++)
                    {
                        InferRequestReader.Read(body, header, null, limits).Dispose();
                    }
                    samples[b].Add((ThreadCpuNs() - start) / 1000.0 / iterations);
                }
            }
            for (var b = 0; b < bodies.Count; b++)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {bodies[b].Name} | {bodies[b].Body.Length} | {Median(samples[b]):F1} |");
            }
        }

        // The scanner's fallback (numbers outside its exact path: more than 19 significant digits or a mantissa above 2^53, which is
        // every 17-digit double) is Utf8Parser, as Utf8JsonReader uses; csFastFloat is the candidate replacement.
        var tokens = Encoding.UTF8.GetString(LargeInputModel.JsonBody(LargeInputModel.Image(48, 192), 48, 192, "R64")).Split('[').Last().TrimEnd(']', '}').Split(',')
            .Select(Encoding.UTF8.GetBytes).ToArray();
        var mismatches = 0;
        foreach (var token in tokens)
        {
            Utf8Parser.TryParse(token, out float a, out _);
            csFastFloat.FastFloatParser.TryParseFloat(token, out _, out float b);
            mismatches += BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) ? 0 : 1;
        }
        var utf8 = new List<double>();
        var fast = new List<double>();
        float sink = 0;
        for (var round = 0; round < rounds; round++)
        {
            var start = ThreadCpuNs();
            for (var repeat = 0; repeat < 10; repeat++)
            {
                foreach (var token in tokens)
                {
                    Utf8Parser.TryParse(token, out float value, out _);
                    sink += value;
                }
            }
            utf8.Add((ThreadCpuNs() - start) / 10.0 / tokens.Length);
            start = ThreadCpuNs();
            for (var repeat = 0; repeat < 10; repeat++)
            {
                foreach (var token in tokens)
                {
                    csFastFloat.FastFloatParser.TryParseFloat(token, out _, out float value);
                    sink += value;
                }
            }
            fast.Add((ThreadCpuNs() - start) / 10.0 / tokens.Length);
        }
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Fallback parser, {tokens.Length} 17-digit numbers (FP32 target), CPU ns per number, median of {rounds} rounds: "
            + $"Utf8Parser {Median(utf8):F1}, csFastFloat 4.1.6 {Median(fast):F1}; results differing in any bit: {mismatches} (checksum {sink:G3}).");
        return sb.ToString();
    }

    private static string Describe(string format) => format switch
    {
        "4" => "4 decimals",
        "R" => "float \"R\" (<= 9 digits)",
        _ => "double \"R\" (17 digits)",
    };

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID).</summary>
    public static long ThreadCpuNs()
    {
        ClockGetTime(3, out var time);
        return time.Seconds * 1_000_000_000 + time.Nanoseconds;
    }
}
