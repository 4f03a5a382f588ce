using System.Buffers;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.OnlineScorer.Payloads;

/// <summary>
/// One sampled request on its way into the payload log: copies of its inputs and outputs (plain memory copies on the request path;
/// the JSON is written later by <see cref="PayloadShipper"/>), its id, version and route. Owns its copies until disposed.
/// </summary>
public sealed class PayloadCapture : IDisposable
{
    private readonly List<TensorBuffer> _inputs = [];
    private readonly List<TensorBuffer> _outputs = [];
    private readonly int _maxBytes;
    private long _bytes;

    internal PayloadCapture(string id, string model, int version, string route, int maxBytes)
    {
        Id = id;
        Model = model;
        Version = version;
        Route = route;
        _maxBytes = maxBytes;
    }

    public string Id { get; }

    public string Model { get; }

    public int Version { get; }

    public string Route { get; }

    /// <summary>The model's sample picked the request (false: recorded only because it was forced, for a shadow comparison).</summary>
    public bool Sampled { get; init; } = true;

    /// <summary>The most bytes the record's JSON may take with its tensors.</summary>
    public int MaxBytes => _maxBytes;

    /// <summary>The tensors took more than the model's <c>maxBytesPerRecord</c> and were left out.</summary>
    public bool Truncated { get; private set; }

    public IReadOnlyList<TensorBuffer> Inputs => _inputs;

    public IReadOnlyList<TensorBuffer> Outputs => _outputs;

    /// <summary>Set once the call ended: outcome class, HTTP status, error, server latency and time.</summary>
    public PayloadEnd End { get; internal set; }

    internal void CopyInputs(IReadOnlyList<TensorBuffer> inputs) => Copy(inputs, _inputs);

    internal void CopyOutputs(IReadOnlyList<TensorBuffer> outputs) => Copy(outputs, _outputs);

    private void Copy(IReadOnlyList<TensorBuffer> source, List<TensorBuffer> destination)
    {
        foreach (var tensor in source)
        {
            // Raw bytes are a lower bound of the JSON's size: what exceeds it now can only be larger written out.
            _bytes += tensor.ByteLength;
            if (Truncated || _bytes > _maxBytes)
            {
                Truncate();
                return;
            }
            var copy = ArrayPool<byte>.Shared.Rent(Math.Max(1, tensor.ByteLength));
            tensor.Span.CopyTo(copy);
            destination.Add(TensorBuffer.FromRented(tensor.Name, tensor.DataType, (long[])tensor.Shape.Clone(), copy, tensor.ByteLength));
        }
    }

    /// <summary>Leaves the tensors out of the record (too large for it).</summary>
    internal void Truncate()
    {
        Truncated = true;
        DisposeTensors();
    }

    public void Dispose() => DisposeTensors();

    private void DisposeTensors()
    {
        foreach (var tensor in _inputs)
        {
            tensor.Dispose();
        }
        foreach (var tensor in _outputs)
        {
            tensor.Dispose();
        }
        _inputs.Clear();
        _outputs.Clear();
    }
}

/// <summary>How a recorded call ended.</summary>
public readonly record struct PayloadEnd(DateTimeOffset At, double LatencyMs, string Outcome, int Status, string? Error);
