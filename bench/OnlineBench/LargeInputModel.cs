using System.Globalization;
using System.Text;

namespace MlPlatform.Bench;

/// <summary>
/// The large-input benchmark models and their request bodies, generated here rather than committed: a third-party-CNN-sized input
/// (FP32 <c>[N, 3, H, W]</c>) behind a deliberately cheap graph, a 4x4 stride-4 convolution to 4 channels and a ReduceMean over the
/// spatial axes (FP32 <c>[N, 4]</c> out), so that what is measured is reading the tensor, not running the model.
/// The ONNX file is written as protobuf by hand (a dozen fields of onnx.proto), so the bench needs neither python nor a package.
/// </summary>
public static class LargeInputModel
{
    public static string Name(int height, int width) => $"large-{height}x{width}.onnx";

    /// <summary>Writes the model for FP32 <c>[batch, 3, height, width]</c> into <paramref name="folder"/> and returns its path.</summary>
    public static string Write(string folder, int height, int width)
    {
        var path = Path.Combine(folder, Name(height, width));
        var weights = Weights(4 * 3 * 4 * 4, 0, 1 / 64f);
        var graph = new Proto()
            .Message(1, Node(["image", "w", "b"], ["conv"], "Conv", new Proto().Message(5, IntsAttribute("kernel_shape", [4, 4])).Message(5, IntsAttribute("strides", [4, 4]))))
            .Message(1, Node(["conv"], ["features"], "ReduceMean", new Proto().Message(5, IntsAttribute("axes", [2, 3])).Message(5, IntAttribute("keepdims", 0))))
            .String(2, "large_input")
            .Message(5, FloatTensor("w", [4, 3, 4, 4], weights))
            .Message(5, FloatTensor("b", [4], [0.1f, -0.1f, 0.2f, -0.2f]))
            .Message(11, ValueInfo("image", [-1, 3, height, width]))
            .Message(12, ValueInfo("features", [-1, 4]));
        return WriteModel(path, graph);
    }

    /// <summary>
    /// A small CNN for the same input, for issue 20's throughput ratios (against in-process ONNX Runtime and the hand-written endpoint),
    /// which the cheap graph cannot give (in process it runs in ~20 us, so no HTTP path comes near it): 3x3 convolutions of 32 (stride 2),
    /// 64 (stride 2) and 64 channels with ReLU, then a dense head of 256 (ReLU) and 10 outputs, as text-line and image classifiers have;
    /// the dense layer's ~38 MB of weights are read once per run, which batching amortises (as for the small model). Sized to cost what
    /// issue 20's CNN did (a few ms per image in process, one thread). FP32 <c>[N, 10]</c> out.
    /// </summary>
    public static string WriteCnn(string folder, int height, int width)
    {
        var path = Path.Combine(folder, "cnn-" + Name(height, width));
        var (h1, w1) = ((height - 1) / 2 + 1, (width - 1) / 2 + 1);
        var (h2, w2) = ((h1 - 1) / 2 + 1, (w1 - 1) / 2 + 1);
        var flat = 64L * h2 * w2;
        var conv = new Proto().Message(5, IntsAttribute("kernel_shape", [3, 3])).Message(5, IntsAttribute("strides", [2, 2]))
            .Message(5, IntsAttribute("pads", [1, 1, 1, 1]));
        var same = new Proto().Message(5, IntsAttribute("kernel_shape", [3, 3])).Message(5, IntsAttribute("pads", [1, 1, 1, 1]));
        var gemm = new Proto().Message(5, IntAttribute("transB", 1));
        var graph = new Proto()
            .Message(1, Node(["image", "w1", "b1"], ["c1"], "Conv", conv))
            .Message(1, Node(["c1"], ["r1"], "Relu", new Proto()))
            .Message(1, Node(["r1", "w2", "b2"], ["c2"], "Conv", conv))
            .Message(1, Node(["c2"], ["r2"], "Relu", new Proto()))
            .Message(1, Node(["r2", "w5", "b5"], ["c5"], "Conv", same))
            .Message(1, Node(["c5"], ["r5"], "Relu", new Proto()))
            .Message(1, Node(["r5"], ["flat"], "Flatten", new Proto().Message(5, IntAttribute("axis", 1))))
            .Message(1, Node(["flat", "w3", "b3"], ["d3"], "Gemm", gemm))
            .Message(1, Node(["d3"], ["r3"], "Relu", new Proto()))
            .Message(1, Node(["r3", "w4", "b4"], ["features"], "Gemm", gemm))
            .String(2, "large_input_cnn")
            .Message(5, FloatTensor("w1", [32, 3, 3, 3], Weights(32 * 3 * 9, 1, 1 / 32f)))
            .Message(5, FloatTensor("b1", [32], Weights(32, 2, 1 / 64f)))
            .Message(5, FloatTensor("w2", [64, 32, 3, 3], Weights(64 * 32 * 9, 3, 1 / 256f)))
            .Message(5, FloatTensor("b2", [64], Weights(64, 4, 1 / 64f)))
            .Message(5, FloatTensor("w5", [64, 64, 3, 3], Weights(64 * 64 * 9, 9, 1 / 512f)))
            .Message(5, FloatTensor("b5", [64], Weights(64, 10, 1 / 64f)))
            .Message(5, FloatTensor("w3", [256, flat], Weights(256 * flat, 5, 1 / 4096f)))
            .Message(5, FloatTensor("b3", [256], Weights(256, 6, 1 / 64f)))
            .Message(5, FloatTensor("w4", [10, 256], Weights(10 * 256, 7, 1 / 256f)))
            .Message(5, FloatTensor("b4", [10], Weights(10, 8, 1 / 64f)))
            .Message(11, ValueInfo("image", [-1, 3, height, width]))
            .Message(12, ValueInfo("features", [-1, 10]));
        return WriteModel(path, graph);
    }

    /// <summary>
    /// A V2 JSON request body for one image, numbers written as clients write them: <paramref name="format"/> "4" = four decimals
    /// (<c>0.1234</c>), "R" = the shortest text that round-trips a float (<c>float.ToString("R")</c>, up to 9 significant digits),
    /// "R64" = the same for a double (17 digits: what Python's json module writes for numpy float64 values).
    /// </summary>
    public static byte[] JsonBody(float[] values, int height, int width, string format)
    {
        var sb = new StringBuilder(values.Length * 20);
        sb.Append(CultureInfo.InvariantCulture, $"{{\"inputs\":[{{\"name\":\"image\",\"shape\":[1,3,{height},{width}],\"datatype\":\"FP32\",\"data\":[");
        var random = new Random(3);
        for (var i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }
            sb.Append(format switch
            {
                "4" => values[i].ToString("F4", CultureInfo.InvariantCulture),
                "R" => values[i].ToString("R", CultureInfo.InvariantCulture),
                _ => ((double)values[i] + random.NextDouble() * 1e-9).ToString("R", CultureInfo.InvariantCulture),
            });
        }
        sb.Append("]}]}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Pixel-like values in [0, 1), from a fixed seed.</summary>
    public static float[] Image(int height, int width, int seed = 5)
    {
        var random = new Random(seed);
        var values = new float[3 * height * width];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = random.NextSingle();
        }
        return values;
    }

    /// <summary>Fixed weights from a seed: the model's bytes are the same on every run.</summary>
    private static float[] Weights(long count, int seed, float scale)
    {
        var values = new float[count];
        for (var i = 0L; i < count; i++)
        {
            values[i] = ((i * 37 + seed) % 17 - 8) * scale;
        }
        return values;
    }

    /// <summary>Wraps <paramref name="graph"/> in a model (IR 7, opset 13 of the default domain) and writes it to <paramref name="path"/>.</summary>
    private static string WriteModel(string path, Proto graph)
    {
        var model = new Proto()
            .Varint(1, 7) // ir_version
            .String(2, "mlplatform-bench")
            .Message(7, graph)
            .Message(8, new Proto().String(1, "").Varint(2, 13)); // opset_import: default domain, opset 13
        File.WriteAllBytes(path, model.ToArray());
        return path;
    }

    private static Proto Node(string[] inputs, string[] outputs, string op, Proto attributes)
    {
        var node = new Proto();
        foreach (var input in inputs)
        {
            node.String(1, input);
        }
        foreach (var output in outputs)
        {
            node.String(2, output);
        }
        return node.String(4, op).Append(attributes);
    }

    private static Proto IntsAttribute(string name, long[] values)
    {
        var attribute = new Proto().String(1, name);
        foreach (var value in values)
        {
            attribute.Varint(8, value);
        }
        return attribute.Varint(20, 7); // AttributeType.INTS
    }

    private static Proto IntAttribute(string name, long value) => new Proto().String(1, name).Varint(3, value).Varint(20, 2); // INT

    private static Proto FloatTensor(string name, long[] dims, float[] values)
    {
        var tensor = new Proto();
        foreach (var dim in dims)
        {
            tensor.Varint(1, dim);
        }
        var raw = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        return tensor.Varint(2, 1).String(8, name).Bytes(9, raw); // data_type FLOAT, name, raw_data
    }

    private static Proto ValueInfo(string name, long[] dims)
    {
        var shape = new Proto();
        foreach (var dim in dims)
        {
            shape.Message(1, dim < 0 ? new Proto().String(2, "batch") : new Proto().Varint(1, dim));
        }
        var tensorType = new Proto().Varint(1, 1).Message(2, shape); // elem_type FLOAT, shape
        return new Proto().String(1, name).Message(2, new Proto().Message(1, tensorType));
    }

    /// <summary>Just enough of the protobuf wire format: varints and length-delimited fields.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream _bytes = new();

        public Proto Varint(int field, long value)
        {
            WriteVarint((ulong)(field << 3));
            WriteVarint((ulong)value);
            return this;
        }

        public Proto Bytes(int field, byte[] value)
        {
            WriteVarint((ulong)((field << 3) | 2));
            WriteVarint((ulong)value.Length);
            _bytes.Write(value);
            return this;
        }

        public Proto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Message(int field, Proto message) => Bytes(field, message.ToArray());

        public Proto Append(Proto other)
        {
            _bytes.Write(other.ToArray());
            return this;
        }

        public byte[] ToArray() => _bytes.ToArray();

        private void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _bytes.WriteByte((byte)value);
        }
    }
}
