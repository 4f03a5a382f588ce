using Microsoft.ML.OnnxRuntime;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.Inference.Onnx;

/// <summary>
/// One loaded ONNX model: an <see cref="InferenceSession"/> (thread-safe, shared by concurrent calls) and its signature.
/// Runs take and return pooled <see cref="TensorBuffer"/>s; inputs are handed to ORT over pinned memory without copies.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;

    private OnnxModel(InferenceSession session, ModelSignature signature)
    {
        _session = session;
        Signature = signature;
    }

    /// <summary>Inputs and outputs as the session reports them (V2 datatypes, -1 for dynamic axes).</summary>
    public ModelSignature Signature { get; }

    /// <summary>Opens a session over the model file.</summary>
    /// <exception cref="OnnxRuntimeException">The file is not a model ONNX Runtime can load.</exception>
    /// <exception cref="NotSupportedException">An input or output is not a tensor of a V2 datatype.</exception>
    public static OnnxModel Load(string path, OnnxSessionOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = options.GraphOptimizationLevel,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = options.InterOpThreads,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        var spin = options.AllowSpinning ? "1" : "0";
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", spin);
        sessionOptions.AddSessionConfigEntry("session.inter_op.allow_spinning", spin);
        var session = new InferenceSession(path, sessionOptions);
        try
        {
            return new OnnxModel(session, ReadSignature(session));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static ModelSignature ReadSignature(InferenceSession session)
    {
        static List<TensorSpec> Specs(IReadOnlyDictionary<string, NodeMetadata> nodes, string kind)
        {
            var specs = new List<TensorSpec>(nodes.Count);
            foreach (var (name, node) in nodes)
            {
                if (!node.IsTensor || !OrtDataTypes.TryFromOrt(node.ElementDataType, out var type))
                {
                    throw new NotSupportedException($"The model's {kind} '{name}' is not a tensor of a V2 datatype ({node.OnnxValueType}, {node.ElementDataType}).");
                }
                specs.Add(new TensorSpec(name, type.ToV2Name(), node.Dimensions.Select(d => (long)(d < 0 ? -1 : d)).ToArray()));
            }
            return specs;
        }
        return new ModelSignature(Specs(session.InputMetadata, "input"), Specs(session.OutputMetadata, "output"));
    }

    /// <summary>Runs the model once; the caller disposes the returned outputs (in <paramref name="outputNames"/> order).</summary>
    /// <param name="inputs">One buffer per model input, matched by name, already checked against <see cref="Signature"/>.</param>
    /// <param name="outputNames">The outputs to compute.</param>
    /// <param name="cancellationToken">Terminates the run (<see cref="RunOptions.Terminate"/>): ONNX Runtime stops at its next check and throws.</param>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime rejected the inputs, failed while running, or was terminated.</exception>
    public TensorBuffer[] Run(IReadOnlyList<TensorBuffer> inputs, IReadOnlyList<string> outputNames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputNames);
        // One RunOptions per run: its terminate flag stops this run only.
        using var runOptions = new RunOptions();
        using var termination = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((RunOptions)state!).Terminate = true, runOptions)
            : default;
        var names = new string[inputs.Count];
        var values = new OrtValue[inputs.Count];
        var pinned = new PinnedOrtValue[inputs.Count];
        var created = 0;
        try
        {
            for (; created < inputs.Count; created++)
            {
                pinned[created] = inputs[created].ToOrtValue();
                values[created] = pinned[created].Value;
                names[created] = inputs[created].Name;
            }
            using var results = _session.Run(runOptions, names, values, outputNames);
            var outputs = new TensorBuffer[outputNames.Count];
            var copied = 0;
            try
            {
                foreach (var result in results)
                {
                    outputs[copied] = TensorBuffer.FromOrtValue(outputNames[copied], result);
                    copied++;
                }
                return outputs;
            }
            catch
            {
                for (var i = 0; i < copied; i++)
                {
                    outputs[i].Dispose();
                }
                throw;
            }
        }
        finally
        {
            for (var i = 0; i < created; i++)
            {
                pinned[i].Dispose();
            }
        }
    }

    /// <summary>Every output name, in signature order.</summary>
    public IReadOnlyList<string> OutputNames => field ??= Signature.Outputs.Select(o => o.Name).ToArray();

    /// <summary>
    /// Inputs synthesised from the signature for a warm-up run: zeros (empty strings for BYTES), dynamic axes taken from
    /// <paramref name="shapes"/> when it names the input, else 1.
    /// </summary>
    public IReadOnlyList<TensorBuffer> CreateWarmupInputs(IReadOnlyDictionary<string, long[]>? shapes)
    {
        var inputs = new List<TensorBuffer>(Signature.Inputs.Count);
        foreach (var spec in Signature.Inputs)
        {
            long[] shape;
            if (shapes is not null && shapes.TryGetValue(spec.Name, out var given) && given.Length == spec.Shape.Length && spec.Accepts(given))
            {
                shape = (long[])given.Clone();
            }
            else
            {
                shape = spec.Shape.Select(d => d < 0 ? 1L : d).ToArray();
            }
            if (spec.DataType == TensorDataType.Bytes)
            {
                var count = (int)TensorBuffer.CountElements(shape);
                var buffer = TensorBuffer.RentBytes(spec.Name, shape, count * 4);
                buffer.Span.Clear();
                inputs.Add(buffer);
            }
            else
            {
                var buffer = TensorBuffer.Rent(spec.Name, spec.DataType, shape);
                buffer.Span.Clear();
                inputs.Add(buffer);
            }
        }
        return inputs;
    }

    /// <summary>Runs the model once on synthesised inputs so the first request does not pay for lazy initialisation.</summary>
    /// <exception cref="OnnxRuntimeException">The model failed on the synthesised inputs.</exception>
    public void WarmUp(IReadOnlyDictionary<string, long[]>? shapes)
    {
        var inputs = CreateWarmupInputs(shapes);
        try
        {
            foreach (var output in Run(inputs, OutputNames))
            {
                output.Dispose();
            }
        }
        finally
        {
            foreach (var input in inputs)
            {
                input.Dispose();
            }
        }
    }

    /// <summary>Releases the session.</summary>
    public void Dispose()
    {
        _session.Dispose();
    }
}
