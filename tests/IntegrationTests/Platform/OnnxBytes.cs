using System.Text;

namespace MlPlatform.IntegrationTests.Platform;

/// <summary>
/// ONNX files written at the protobuf wire level, for tests that need a model of a given size or one that names an external data file:
/// small enough to read, exact about the bytes a hostile client could send.
/// </summary>
internal static class OnnxBytes
{
    /// <summary>
    /// <paramref name="model"/> with an unused UINT8 initializer of <paramref name="paddingBytes"/> random bytes: a second <c>graph</c>
    /// field, which protobuf merges into the first. The file stays a valid model of the same signature, and its hash is new every time.
    /// </summary>
    public static byte[] Padded(byte[] model, int paddingBytes)
    {
        var padding = new byte[paddingBytes];
        Random.Shared.NextBytes(padding);
        var tensor = Concat(Varint(1, (ulong)paddingBytes), Varint(2, 2), Bytes(8, "padding"u8.ToArray()), Bytes(9, padding));
        return [.. model, .. Bytes(7, Bytes(5, tensor))];
    }

    /// <summary>
    /// A model whose only initializer (UINT8 [<paramref name="length"/>], output as is by an Identity node) keeps its data in the external
    /// file <paramref name="location"/>, relative to the model's own folder, as ONNX's external data format allows.
    /// </summary>
    public static byte[] WithExternalData(string location, int length)
    {
        var external = Concat(
            Bytes(13, Concat(Bytes(1, "location"u8.ToArray()), Bytes(2, Encoding.UTF8.GetBytes(location)))),
            Bytes(13, Concat(Bytes(1, "length"u8.ToArray()), Bytes(2, Encoding.UTF8.GetBytes(length.ToString(System.Globalization.CultureInfo.InvariantCulture))))));
        var initializer = Concat(Varint(1, (ulong)length), Varint(2, 2), Bytes(8, "W"u8.ToArray()), external, Varint(14, 1));
        var node = Concat(Bytes(1, "W"u8.ToArray()), Bytes(2, "Y"u8.ToArray()), Bytes(4, "Identity"u8.ToArray()));
        var shape = Bytes(2, Bytes(1, Varint(1, (ulong)length)));
        var output = Concat(Bytes(1, "Y"u8.ToArray()), Bytes(2, Bytes(1, Concat(Varint(1, 2), shape))));
        var graph = Concat(Bytes(1, node), Bytes(2, "g"u8.ToArray()), Bytes(5, initializer), Bytes(12, output));
        return Concat(Varint(1, 8), Bytes(8, Concat(Bytes(1, []), Varint(2, 13))), Bytes(7, graph));
    }

    /// <summary>An empty protobuf group (field 100), which ONNX never writes and ONNX Runtime's parser skips.</summary>
    public static readonly byte[] EmptyGroup = [0xA3, 0x06, 0xA4, 0x06];

    private static byte[] Varint(int field, ulong value) => [.. RawVarint((ulong)field << 3), .. RawVarint(value)];

    private static byte[] Bytes(int field, byte[] payload) => [.. RawVarint(((ulong)field << 3) | 2), .. RawVarint((ulong)payload.Length), .. payload];

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] RawVarint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        bytes.Add((byte)value);
        return [.. bytes];
    }
}
