using System.Buffers;
using System.Text;
using MlPlatform.BatchScorer.Jobs;

namespace MlPlatform.BatchScorer.Input;

/// <summary>The result of one pass over a stored input: how many rows it has and where each chunk starts and ends.</summary>
public sealed record InputScan(long RowsTotal, IReadOnlyList<ChunkRange> Chunks, string? HeaderLine);

/// <summary>
/// Counts the rows of a line-oriented input (JSONL or CSV) in one streaming pass and splits them into chunks by byte range,
/// so a worker can read its chunk without touching the rest of the file. Blank lines are not rows.
/// </summary>
public static class InputScanner
{
    private const int BufferSize = 256 * 1024;
    private static readonly SearchValues<byte> Blank = SearchValues.Create(" \t\r"u8);

    /// <summary>Scans <paramref name="input"/> from its current position (taken as offset 0).</summary>
    /// <param name="isHeader">Asked about the first non-blank line; when it answers true that line is a header, not a row.</param>
    /// <exception cref="InputRejectedException">A line is longer than <paramref name="maxRowBytes"/>, or there are more than <paramref name="maxRows"/> rows, or more than <paramref name="maxChunks"/> chunks.</exception>
    public static async Task<InputScan> ScanAsync(
        Stream input, int chunkSize, int maxRowBytes, long maxRows, int maxChunks,
        Func<string, bool>? isHeader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);

        var chunks = new List<ChunkRange>();
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var firstLine = new MemoryStream();
        string? header = null;
        var sawFirstLine = false;

        long position = 0;          // absolute offset of buffer[0]
        long lineStart = 0;
        var lineHasContent = false;
        long rows = 0;
        long chunkStart = 0;
        var chunkRows = 0;

        void EndLine(long lineEnd, int lineNumberHint)
        {
            var length = lineEnd - lineStart;
            if (length > maxRowBytes)
            {
                throw new InputRejectedException($"Line {lineNumberHint} is {length} bytes long; the limit is {maxRowBytes} (BatchJobOptions:MaxRowBytes).");
            }
            if (!lineHasContent)
            {
                if (!sawFirstLine)
                {
                    firstLine.SetLength(0);
                }
                return;
            }
            if (!sawFirstLine)
            {
                sawFirstLine = true;
                var text = Encoding.UTF8.GetString(firstLine.GetBuffer(), 0, (int)firstLine.Length).TrimEnd('\r', '\n');
                if (isHeader?.Invoke(text) == true)
                {
                    header = text;
                    return;
                }
            }
            if (chunkRows == 0)
            {
                chunkStart = lineStart;
            }
            rows++;
            chunkRows++;
            if (rows > maxRows)
            {
                throw new InputRejectedException($"The input has more than {maxRows} rows (BatchJobOptions:MaxRows).", StatusCodes.Status413PayloadTooLarge);
            }
            if (chunkRows == chunkSize)
            {
                CloseChunk(lineEnd);
            }
        }

        void CloseChunk(long end)
        {
            if (chunks.Count == maxChunks)
            {
                throw new InputRejectedException($"The input needs more than {maxChunks} chunks (BatchJobOptions:MaxChunks); use a larger chunkSize.");
            }
            chunks.Add(new ChunkRange(chunks.Count, rows - chunkRows, chunkRows, chunkStart, end - chunkStart));
            chunkRows = 0;
        }

        long lineNumber = 1;
        long lastLineEnd = 0;
        try
        {
            int read;
            while ((read = await input.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
            {
                var span = buffer.AsSpan(0, read);
                var at = 0;
                while (at < span.Length)
                {
                    var rest = span[at..];
                    var newline = rest.IndexOf((byte)'\n');
                    var segment = newline < 0 ? rest : rest[..newline];
                    if (!lineHasContent && segment.IndexOfAnyExcept(Blank) >= 0)
                    {
                        lineHasContent = true;
                    }
                    if (!sawFirstLine && firstLine.Length <= maxRowBytes)
                    {
                        firstLine.Write(segment);
                    }
                    if (newline < 0)
                    {
                        at = span.Length;
                        if (position + at - lineStart > maxRowBytes)
                        {
                            throw new InputRejectedException($"Line {lineNumber} is longer than {maxRowBytes} bytes (BatchJobOptions:MaxRowBytes).");
                        }
                        break;
                    }
                    var lineEnd = position + at + newline + 1;
                    EndLine(lineEnd, (int)Math.Min(lineNumber, int.MaxValue));
                    lastLineEnd = lineEnd;
                    lineNumber++;
                    lineStart = lineEnd;
                    lineHasContent = false;
                    at += newline + 1;
                }
                position += read;
            }
            if (position > lastLineEnd)
            {
                EndLine(position, (int)Math.Min(lineNumber, int.MaxValue));
            }
            if (chunkRows > 0)
            {
                CloseChunk(position > lastLineEnd ? position : lastLineEnd);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new InputScan(rows, chunks, header);
    }

    /// <summary>Yields the non-blank lines of a chunk's bytes, without their line ending.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> EnumerateLines(ReadOnlyMemory<byte> chunk)
    {
        var at = 0;
        while (at < chunk.Length)
        {
            var rest = chunk.Span[at..];
            var newline = rest.IndexOf((byte)'\n');
            var length = newline < 0 ? rest.Length : newline;
            var line = chunk.Slice(at, length);
            at += newline < 0 ? length : length + 1;
            if (line.Span.IndexOfAnyExcept(Blank) >= 0)
            {
                yield return line.Span.EndsWith("\r"u8) ? line[..^1] : line;
            }
        }
    }
}
