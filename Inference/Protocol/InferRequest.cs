using MlPlatform.Inference.Tensors;

namespace MlPlatform.Inference.Protocol;

/// <summary>An output the client asked for; <see cref="Binary"/> null means "as the request-level binary_data_output says".</summary>
public readonly record struct RequestedOutput(string Name, bool? Binary);

/// <summary>An input's header as a front end other than the JSON body decoded it (gRPC); its data is read once the header passed the checks.</summary>
public readonly record struct InputHeader(string Name, string? Datatype, long[] Shape);

/// <summary>Reads input <paramref name="index"/>'s data into a pooled buffer, checking it against its (already checked) datatype and shape.</summary>
public delegate TensorBuffer InputDataReader(int index, string name, TensorDataType type, long[] shape);

/// <summary>A decoded V2 infer request: inputs in pooled buffers (dispose the request to return them), requested outputs and flags.</summary>
public sealed class InferRequest : IDisposable
{
    /// <summary>Creates a request over buffers it now owns.</summary>
    public InferRequest(string? id, IReadOnlyList<TensorBuffer> inputs, IReadOnlyList<RequestedOutput> outputs, bool binaryDataOutput)
    {
        Id = id;
        Inputs = inputs;
        Outputs = outputs;
        BinaryDataOutput = binaryDataOutput;
    }

    /// <summary>The client's request id, echoed in the response.</summary>
    public string? Id { get; }

    /// <summary>The input tensors, in request order.</summary>
    public IReadOnlyList<TensorBuffer> Inputs { get; }

    /// <summary>The outputs asked for; empty means every output.</summary>
    public IReadOnlyList<RequestedOutput> Outputs { get; }

    /// <summary>The request-level <c>binary_data_output</c> parameter.</summary>
    public bool BinaryDataOutput { get; }

    /// <summary>Whether output <paramref name="name"/> goes back as binary data.</summary>
    public bool WantsBinary(string name)
    {
        foreach (var output in Outputs)
        {
            if (output.Name == name && output.Binary is { } binary)
            {
                return binary;
            }
        }
        return BinaryDataOutput;
    }

    /// <summary>Returns the input buffers to the pool.</summary>
    public void Dispose()
    {
        foreach (var input in Inputs)
        {
            input.Dispose();
        }
    }
}

/// <summary>Limits the decoder enforces while it reads.</summary>
public sealed record InferRequestLimits(long MaxElementsPerInput)
{
    /// <summary>No practical limit (tests, tools).</summary>
    public static InferRequestLimits None { get; } = new(int.MaxValue);
}
