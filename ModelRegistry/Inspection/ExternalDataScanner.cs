namespace MlPlatform.ModelRegistry.Inspection;

/// <summary>What <see cref="ExternalDataScanner"/> found in an ONNX file.</summary>
public enum ExternalDataScan
{
    /// <summary>Every tensor keeps its data inside the file.</summary>
    None,

    /// <summary>At least one tensor's data lives in another file.</summary>
    Present,

    /// <summary>The bytes are not a well-formed protobuf message the scan can follow; such a file is refused like <see cref="Present"/>.</summary>
    Unreadable,
}

/// <summary>
/// Walks an ONNX <c>ModelProto</c> at the protobuf wire level, without loading tensor data, looking for tensors whose data lives in
/// external files (<c>data_location = EXTERNAL</c> or an <c>external_data</c> entry). Such models are refused: their data would be read from
/// paths named inside the file, which the registry never follows.
/// </summary>
public static class ExternalDataScanner
{
    private const int MaxDepth = 64;

    private enum Message
    {
        Model,
        Graph,
        Node,
        Attribute,
        Tensor,
        SparseTensor,
        Function,
        TrainingInfo,
        Skip,
    }

    /// <summary>Scans a seekable stream from its current position to its end.</summary>
    public static ExternalDataScan Scan(Stream model) => Scan(model, out _);

    /// <summary>Scans a seekable stream from its current position to its end; <paramref name="problem"/> says why it is unreadable.</summary>
    public static ExternalDataScan Scan(Stream model, out string? problem)
    {
        problem = null;
        ArgumentNullException.ThrowIfNull(model);
        if (!model.CanSeek)
        {
            throw new ArgumentException("The stream must be seekable.", nameof(model));
        }
        try
        {
            return ScanMessage(model, Message.Model, model.Length, 0) ? ExternalDataScan.Present : ExternalDataScan.None;
        }
        catch (InvalidDataException ex)
        {
            problem = ex.Message;
            return ExternalDataScan.Unreadable;
        }
    }

    /// <summary>Which sub-messages of <paramref name="message"/> can (transitively) hold tensors.</summary>
    private static Message Child(Message message, int field) => (message, field) switch
    {
        (Message.Model, 7) => Message.Graph,
        (Message.Model, 20) => Message.TrainingInfo,
        (Message.Model, 25) => Message.Function,
        (Message.TrainingInfo, 1 or 3) => Message.Graph,
        (Message.Graph, 1) => Message.Node,
        (Message.Graph, 5) => Message.Tensor,
        (Message.Graph, 15) => Message.SparseTensor,
        (Message.Function, 7) => Message.Node,
        (Message.Node, 5) => Message.Attribute,
        (Message.Attribute, 5 or 10) => Message.Tensor,
        (Message.Attribute, 6 or 11) => Message.Graph,
        (Message.Attribute, 22 or 23) => Message.SparseTensor,
        (Message.SparseTensor, 1 or 2) => Message.Tensor,
        _ => Message.Skip,
    };

    private static bool ScanMessage(Stream stream, Message message, long end, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException("its messages are nested too deeply.");
        }
        while (stream.Position < end)
        {
            var tag = ReadVarint(stream, end);
            var field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    var value = ReadVarint(stream, end);
                    // TensorProto.data_location = EXTERNAL (1)
                    if (message == Message.Tensor && field == 14 && value == 1)
                    {
                        return true;
                    }
                    break;
                case 1:
                    Skip(stream, 8, end);
                    break;
                case 2:
                    var length = (long)ReadVarint(stream, end);
                    if (length < 0 || length > end - stream.Position)
                    {
                        throw new InvalidDataException("a length runs past the end of its message.");
                    }
                    // TensorProto.external_data
                    if (message == Message.Tensor && field == 13)
                    {
                        return true;
                    }
                    var child = Child(message, field);
                    if (child == Message.Skip)
                    {
                        Skip(stream, length, end);
                    }
                    else if (ScanMessage(stream, child, stream.Position + length, depth + 1))
                    {
                        return true;
                    }
                    break;
                case 5:
                    Skip(stream, 4, end);
                    break;
                case 3 or 4:
                    // ONNX never writes groups; ONNX Runtime's parser skips them, so they could hide what follows from this scan.
                    throw new InvalidDataException($"it contains a protobuf group field (field {field}), an encoding ONNX never writes.");
                default:
                    throw new InvalidDataException($"it contains an invalid protobuf wire type in tag {tag}.");
            }
        }
        if (stream.Position != end)
        {
            throw new InvalidDataException("a field runs past the end of its message.");
        }
        return false;
    }

    private static ulong ReadVarint(Stream stream, long end)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (stream.Position >= end)
            {
                throw new InvalidDataException("a number is truncated.");
            }
            var b = stream.ReadByte();
            if (b < 0)
            {
                throw new InvalidDataException("a number is truncated.");
            }
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
        throw new InvalidDataException("a number is longer than 10 bytes.");
    }

    private static void Skip(Stream stream, long count, long end)
    {
        if (count > end - stream.Position)
        {
            throw new InvalidDataException("a field runs past the end of its message.");
        }
        stream.Seek(count, SeekOrigin.Current);
    }
}
