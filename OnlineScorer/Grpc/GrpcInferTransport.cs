using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Collections;
using MlPlatform.GrpcContracts;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Grpc;

/// <summary>
/// The gRPC front end of an inference: a <see cref="ModelInferRequest"/> goes through the same V2 checks as a REST body
/// (<see cref="InferRequestReader.Assemble"/>); only reading the typed or raw contents is gRPC's own. Outputs go back as
/// <c>raw_output_contents</c> when the request sent raw contents (or asks with <c>binary_data_output</c>), else as typed contents.
/// gRPC has read the message before the call starts (at most <see cref="InferenceLimitsOptions.MaxRequestBodyBytes"/>); what it and its
/// decoded tensors hold is reserved in the <see cref="InFlightBudget"/> before decoding, as for a REST body, and released on dispose.
/// </summary>
internal sealed class GrpcInferTransport(ModelInferRequest message, InferenceLimitsOptions limits, InFlightBudget budget)
    : IInferTransport<ModelInferResponse>, IDisposable
{
    private const string RawContents = "raw_input_contents";

    private long _reserved;

    public ValueTask ReceiveAsync(CancellationToken cancellationToken)
    {
        // The parsed message is held for the whole call, and decoding copies its contents into tensors of about the same size.
        var cost = 2L * message.CalculateSize();
        budget.Reserve(cost, newRequest: cost > 0);
        _reserved = cost;
        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        budget.Release(_reserved, endsRequest: _reserved > 0);
        _reserved = 0;
    }

    public InferRequest Decode(ModelSignature signature)
    {
        var raw = message.RawInputContents;
        if (raw.Count > 0 && raw.Count != message.Inputs.Count)
        {
            throw new InferenceProtocolException(
                $"The request has {message.Inputs.Count} inputs but {raw.Count} {RawContents}; send one per input, in the order of 'inputs'.");
        }
        var headers = new InputHeader[message.Inputs.Count];
        for (var i = 0; i < headers.Length; i++)
        {
            var input = message.Inputs[i];
            headers[i] = new InputHeader(input.Name, input.Datatype, [.. input.Shape]);
        }
        var outputs = new RequestedOutput[message.Outputs.Count];
        for (var i = 0; i < outputs.Length; i++)
        {
            var output = message.Outputs[i];
            outputs[i] = new RequestedOutput(output.Name, ReadBool(output.Parameters, "binary_data"));
        }
        var binaryOutput = ReadBool(message.Parameters, "binary_data_output") ?? raw.Count > 0;
        var id = message.Id.Length > 0 ? message.Id : null;

        return InferRequestReader.Assemble(id, headers, (index, name, type, shape) =>
        {
            var input = message.Inputs[index];
            if (raw.Count > 0)
            {
                if (input.Contents is not null)
                {
                    throw new InferenceProtocolException($"Input '{name}' has 'contents' although the request uses {RawContents}; use one or the other.");
                }
                return InferRequestReader.ReadRaw(raw[index].Span, name, type, shape, $"{RawContents}[{index}]");
            }
            return ReadTyped(input.Contents, name, type, shape);
        }, outputs, binaryOutput, signature, new InferRequestLimits(limits.MaxElementsPerInput));
    }

    public ModelInferResponse Encode(InferReply reply)
    {
        var (request, outputs) = (reply.Request, reply.Outputs);
        var response = new ModelInferResponse { ModelName = reply.Model, ModelVersion = reply.Version, Id = request.Id ?? "" };
        // The protocol allows raw contents for every output or for none; FP16 has no typed field, so it makes them all raw.
        var raw = false;
        foreach (var output in outputs)
        {
            raw |= request.WantsBinary(output.Name) || output.DataType == TensorDataType.FP16;
        }
        foreach (var output in outputs)
        {
            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Name, Datatype = output.DataType.ToV2Name() };
            tensor.Shape.AddRange(output.Shape);
            if (raw)
            {
                response.RawOutputContents.Add(ByteString.CopyFrom(output.Span));
            }
            else
            {
                tensor.Contents = WriteTyped(output);
            }
            response.Outputs.Add(tensor);
        }
        return response;
    }

    private static bool? ReadBool(MapField<string, InferParameter> parameters, string key)
    {
        if (!parameters.TryGetValue(key, out var parameter))
        {
            return null;
        }
        return parameter.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.BoolParam
            ? parameter.BoolParam
            : throw new InferenceProtocolException($"'{key}' must be true or false.");
    }

    private static TensorBuffer ReadTyped(InferTensorContents? contents, string name, TensorDataType type, long[] shape)
    {
        var expected = TensorBuffer.CountElements(shape);
        if (type == TensorDataType.Bytes)
        {
            var strings = contents?.BytesContents ?? [];
            CheckCount(strings.Count, expected, name, shape, "bytes_contents");
            var length = 0;
            foreach (var s in strings)
            {
                length = checked(length + 4 + s.Length);
            }
            var bytes = TensorBuffer.RentBytes(name, shape, length);
            var span = bytes.Span;
            var offset = 0;
            foreach (var s in strings)
            {
                BinaryPrimitives.WriteInt32LittleEndian(span[offset..], s.Length);
                s.Span.CopyTo(span[(offset + 4)..]);
                offset += 4 + s.Length;
            }
            return bytes;
        }

        var buffer = TensorBuffer.Rent(name, type, shape);
        try
        {
            var target = buffer.Span;
            switch (type)
            {
                case TensorDataType.FP32: Copy<float, float>(contents?.Fp32Contents, target, name, shape, "fp32_contents", v => v); break;
                case TensorDataType.FP64: Copy<double, double>(contents?.Fp64Contents, target, name, shape, "fp64_contents", v => v); break;
                case TensorDataType.Int64: Copy<long, long>(contents?.Int64Contents, target, name, shape, "int64_contents", v => v); break;
                case TensorDataType.UInt64: Copy<ulong, ulong>(contents?.Uint64Contents, target, name, shape, "uint64_contents", v => v); break;
                case TensorDataType.Int32: Copy<int, int>(contents?.IntContents, target, name, shape, "int_contents", v => v); break;
                case TensorDataType.Int16: Copy<int, short>(contents?.IntContents, target, name, shape, "int_contents", v => checked((short)v)); break;
                case TensorDataType.Int8: Copy<int, sbyte>(contents?.IntContents, target, name, shape, "int_contents", v => checked((sbyte)v)); break;
                case TensorDataType.UInt32: Copy<uint, uint>(contents?.UintContents, target, name, shape, "uint_contents", v => v); break;
                case TensorDataType.UInt16: Copy<uint, ushort>(contents?.UintContents, target, name, shape, "uint_contents", v => checked((ushort)v)); break;
                case TensorDataType.UInt8: Copy<uint, byte>(contents?.UintContents, target, name, shape, "uint_contents", v => checked((byte)v)); break;
                case TensorDataType.Bool: Copy<bool, byte>(contents?.BoolContents, target, name, shape, "bool_contents", v => v ? (byte)1 : (byte)0); break;
                default:
                    throw new InferenceProtocolException($"Input '{name}': {type.ToV2Name()} has no typed contents; send it in {RawContents}.");
            }
            return buffer;
        }
        catch (OverflowException)
        {
            buffer.Dispose();
            throw new InferenceProtocolException($"Input '{name}': a value in the contents does not fit {type.ToV2Name()}.");
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private static void Copy<TSource, TTarget>(RepeatedField<TSource>? source, Span<byte> target, string name, long[] shape, string field,
        Func<TSource, TTarget> convert) where TTarget : unmanaged
    {
        var values = MemoryMarshal.Cast<byte, TTarget>(target);
        CheckCount(source?.Count ?? 0, values.Length, name, shape, field);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = convert(source![i]);
        }
    }

    private static void CheckCount(int count, long expected, string name, long[] shape, string field)
    {
        if (count != expected)
        {
            throw new InferenceProtocolException(
                $"Input '{name}': shape {TensorSpec.FormatShape(shape)} needs {expected} elements but '{field}' has {count}.");
        }
    }

    private static InferTensorContents WriteTyped(TensorBuffer output)
    {
        var contents = new InferTensorContents();
        switch (output.DataType)
        {
            case TensorDataType.FP32: contents.Fp32Contents.AddRange(output.AsSpan<float>().ToArray()); break;
            case TensorDataType.FP64: contents.Fp64Contents.AddRange(output.AsSpan<double>().ToArray()); break;
            case TensorDataType.Int64: contents.Int64Contents.AddRange(output.AsSpan<long>().ToArray()); break;
            case TensorDataType.UInt64: contents.Uint64Contents.AddRange(output.AsSpan<ulong>().ToArray()); break;
            case TensorDataType.Int32: contents.IntContents.AddRange(output.AsSpan<int>().ToArray()); break;
            case TensorDataType.Int16: foreach (var v in output.AsSpan<short>()) { contents.IntContents.Add(v); } break;
            case TensorDataType.Int8: foreach (var v in output.AsSpan<sbyte>()) { contents.IntContents.Add(v); } break;
            case TensorDataType.UInt32: contents.UintContents.AddRange(output.AsSpan<uint>().ToArray()); break;
            case TensorDataType.UInt16: foreach (var v in output.AsSpan<ushort>()) { contents.UintContents.Add(v); } break;
            case TensorDataType.UInt8: foreach (var v in output.Span) { contents.UintContents.Add(v); } break;
            case TensorDataType.Bool: foreach (var v in output.Span) { contents.BoolContents.Add(v != 0); } break;
            case TensorDataType.Bytes:
                var span = output.Span;
                var offset = 0;
                for (var i = 0; i < output.ElementCount; i++)
                {
                    var length = BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
                    contents.BytesContents.Add(ByteString.CopyFrom(span.Slice(offset + 4, length)));
                    offset += 4 + length;
                }
                break;
            default:
                throw new InvalidOperationException($"{output.DataType.ToV2Name()} outputs are sent raw.");
        }
        return contents;
    }
}
