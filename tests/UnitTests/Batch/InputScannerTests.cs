using System.Text;
using MlPlatform.BatchScorer.Input;
using MlPlatform.BatchScorer.Jobs;

namespace MlPlatform.UnitTests.Batch;

public sealed class InputScannerTests
{
    private static Task<InputScan> Scan(string text, int chunkSize, Func<string, bool>? isHeader = null, int maxRowBytes = 1024, long maxRows = 1_000_000) =>
        InputScanner.ScanAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), chunkSize, maxRowBytes, maxRows, 1_000_000, isHeader, CancellationToken.None);

    private static List<string> LinesOf(byte[] input, ChunkRange chunk) =>
        InputScanner.EnumerateLines(input.AsMemory((int)chunk.Offset, (int)chunk.Length)).Select(l => Encoding.UTF8.GetString(l.Span)).ToList();

    [Fact]
    public async Task RowsAreSplitIntoChunksWhoseByteRangesHoldExactlyTheirRows()
    {
        var text = "r0\nr1\n\n  \nr2\r\nr3\nr4";
        var bytes = Encoding.UTF8.GetBytes(text);

        var scan = await Scan(text, chunkSize: 2);

        Assert.Equal(5, scan.RowsTotal);
        Assert.Equal([0L, 2L, 4L], scan.Chunks.Select(c => c.FirstRow));
        Assert.Equal([2, 2, 1], scan.Chunks.Select(c => c.RowCount));
        Assert.Equal(["r0", "r1"], LinesOf(bytes, scan.Chunks[0]));
        Assert.Equal(["r2", "r3"], LinesOf(bytes, scan.Chunks[1]));
        Assert.Equal(["r4"], LinesOf(bytes, scan.Chunks[2]));
    }

    [Fact]
    public async Task ChunksCoverEveryRowOnceAcrossReadBufferBoundaries()
    {
        var random = new Random(7);
        var lines = Enumerable.Range(0, 40_000).Select(i => $"{{\"i\":{i},\"pad\":\"{new string('x', random.Next(0, 40))}\"}}").ToList();
        var text = string.Join("\n", lines) + "\n";
        var bytes = Encoding.UTF8.GetBytes(text);

        var scan = await Scan(text, chunkSize: 777);

        Assert.Equal(lines.Count, scan.RowsTotal);
        Assert.Equal(lines, scan.Chunks.SelectMany(c => LinesOf(bytes, c)));
        Assert.All(scan.Chunks, c => Assert.Equal(LinesOf(bytes, c).Count, c.RowCount));
    }

    [Fact]
    public async Task AHeaderLineIsNotARow()
    {
        var text = "\na,b\n1,2\n3,4\n";
        var bytes = Encoding.UTF8.GetBytes(text);

        var scan = await Scan(text, chunkSize: 10, CsvRowParser.LooksLikeHeader);

        Assert.Equal("a,b", scan.HeaderLine);
        Assert.Equal(2, scan.RowsTotal);
        Assert.Equal(["1,2", "3,4"], LinesOf(bytes, scan.Chunks.Single()));
    }

    [Fact]
    public async Task ANumericFirstLineIsARowNotAHeader()
    {
        var scan = await Scan("1,2\n3,4\n", chunkSize: 10, CsvRowParser.LooksLikeHeader);

        Assert.Null(scan.HeaderLine);
        Assert.Equal(2, scan.RowsTotal);
    }

    [Fact]
    public async Task ALineLongerThanTheLimitIsRejected()
    {
        var ex = await Assert.ThrowsAsync<InputRejectedException>(() => Scan("short\n" + new string('x', 100) + "\n", chunkSize: 10, maxRowBytes: 50));

        Assert.Contains("Line 2", ex.Message);
        Assert.Contains("MaxRowBytes", ex.Message);
    }

    [Fact]
    public async Task MoreRowsThanTheLimitAreRejectedAsTooLarge()
    {
        var ex = await Assert.ThrowsAsync<InputRejectedException>(() => Scan("1\n2\n3\n", chunkSize: 10, maxRows: 2));

        Assert.Equal(413, ex.StatusCode);
        Assert.Contains("MaxRows", ex.Message);
    }
}
