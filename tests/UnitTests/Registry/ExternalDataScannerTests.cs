using MlPlatform.ModelRegistry.Inspection;

namespace MlPlatform.UnitTests.Registry;

public sealed class ExternalDataScannerTests
{
    [Fact]
    public void ASelfContainedModelHasNoExternalData()
    {
        using var model = File.OpenRead(RepositoryFiles.Path("models", "tabular-mlp.onnx"));
        Assert.Equal(ExternalDataScan.None, ExternalDataScanner.Scan(model));
    }

    [Fact]
    public void AnMlNetExportHasNoExternalData()
    {
        using var model = File.OpenRead(RepositoryFiles.Path("models", "iris.onnx"));
        Assert.Equal(ExternalDataScan.None, ExternalDataScanner.Scan(model));
    }

    [Fact]
    public void InitializersStoredInASideFileAreFound()
    {
        using var model = File.OpenRead(RepositoryFiles.Path("tests", "IntegrationTests", "Assets", "mlp-external-data.onnx"));
        Assert.Equal(ExternalDataScan.Present, ExternalDataScanner.Scan(model));
    }

    [Fact]
    public void AnExternalTensorInsideANodeAttributeIsFound()
    {
        // ModelProto.graph(7) { node(1) { attribute(5) { t(5) { data_location(14) = EXTERNAL } } } }
        byte[] tensor = [0x70, 0x01];
        var attribute = Message(5, tensor);
        var node = Message(5, attribute);
        var graph = Message(1, node);
        var model = Message(7, graph);

        Assert.Equal(ExternalDataScan.Present, ExternalDataScanner.Scan(new MemoryStream(model)));
    }

    [Fact]
    public void BytesThatAreNotProtobufAreUnreadable()
    {
        var text = "this is a CSV file, not a model\n1,2,3\n"u8.ToArray();
        Assert.Equal(ExternalDataScan.Unreadable, ExternalDataScanner.Scan(new MemoryStream(text)));
    }

    [Fact]
    public void ALengthPastTheEndIsUnreadable() =>
        Assert.Equal(ExternalDataScan.Unreadable, ExternalDataScanner.Scan(new MemoryStream([0x3A, 0x7F, 0x00])));

    [Fact]
    public void AGroupFieldInFrontOfAModelIsUnreadableAndSaysWhy()
    {
        // An empty group (field 100: start tag 0xA3 0x06, end tag 0xA4 0x06) that ONNX Runtime's parser would skip.
        byte[] model = [0xA3, 0x06, 0xA4, 0x06, .. File.ReadAllBytes(RepositoryFiles.Path("tests", "IntegrationTests", "Assets", "mlp-external-data.onnx"))];

        Assert.Equal(ExternalDataScan.Unreadable, ExternalDataScanner.Scan(new MemoryStream(model), out var problem));
        Assert.Equal("it contains a protobuf group field (field 100), an encoding ONNX never writes.", problem);
    }

    private static byte[] Message(int field, byte[] payload) => [(byte)((field << 3) | 2), (byte)payload.Length, .. payload];
}
