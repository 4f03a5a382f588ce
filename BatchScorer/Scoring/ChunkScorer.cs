using Microsoft.Extensions.Options;
using MlPlatform.BatchScorer.Input;
using MlPlatform.BatchScorer.Jobs;
using MlPlatform.BatchScorer.Results;
using MlPlatform.BatchScorer.Storage;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.BatchScorer.Scoring;

/// <summary>What scoring one chunk produced.</summary>
/// <param name="Published">False when another delivery of the same chunk had already published its result.</param>
public sealed record ChunkOutcome(int Rows, int FailedRows, long? FirstFailedRow, string? FirstError, bool Published);

/// <summary>
/// Scores one chunk: reads its byte range of the stored input, parses rows into batches of <see cref="BatchWorkerOptions.InferenceBatchSize"/>,
/// runs ONNX Runtime once per batch, and writes one result line per row, in row order, to a temporary file that is fsynced and then
/// published under the chunk's name (so a crash never leaves half a result, and a chunk scored twice is published once).
/// </summary>
public sealed class ChunkScorer(JobFiles files, ModelSessions sessions, IOptions<BatchWorkerOptions> options)
{
    /// <exception cref="OperationCanceledException">Shutdown: the chunk is abandoned and nothing is published.</exception>
    /// <exception cref="InvalidDataException">The stored input does not match the manifest.</exception>
    public async Task<ChunkOutcome> ScoreAsync(JobManifest manifest, ChunkRange chunk, CancellationToken cancellationToken)
    {
        using var lease = await sessions.AcquireAsync(manifest.Sha256, cancellationToken);
        var bytes = await files.ReadChunkAsync(manifest.Id, chunk, cancellationToken);

        var parser = RowParsers.Create(manifest.Format, manifest.Inputs, manifest.CsvHeader);
        var batch = new RowBatch(manifest.Inputs, Math.Min(options.Value.InferenceBatchSize, chunk.RowCount));
        var pending = new List<(long Row, string? Error)>(batch.Capacity);
        var outputNames = manifest.Outputs.Select(o => o.Name).ToArray();

        var finalPath = files.ChunkResultPath(manifest.Id, chunk.Index);
        var temporaryPath = $"{finalPath}.{Guid.NewGuid():N}.tmp";
        var failed = 0;
        long? firstFailedRow = null;
        string? firstError = null;
        var row = chunk.FirstRow;
        try
        {
            await using (var file = new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                using var writer = new ResultLineWriter(file);
                foreach (var line in InputScanner.EnumerateLines(bytes))
                {
                    if (row > chunk.LastRow)
                    {
                        throw new InvalidDataException($"Chunk {chunk.Index} holds more than the {chunk.RowCount} rows its manifest records.");
                    }
                    if (parser.TryParse(line.Span, batch, out var error))
                    {
                        batch.Commit();
                        pending.Add((row, null));
                    }
                    else
                    {
                        pending.Add((row, error));
                        failed++;
                        firstFailedRow ??= row;
                        firstError ??= error;
                    }
                    row++;
                    if (batch.IsFull)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        await FlushBatchAsync(lease.Value, batch, pending, outputNames, writer, cancellationToken);
                    }
                }
                if (pending.Count > 0)
                {
                    await FlushBatchAsync(lease.Value, batch, pending, outputNames, writer, cancellationToken);
                }
                if (row != chunk.FirstRow + chunk.RowCount)
                {
                    throw new InvalidDataException($"Chunk {chunk.Index} holds {row - chunk.FirstRow} rows; its manifest records {chunk.RowCount}.");
                }
                await writer.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }
            var published = JobFiles.PublishChunkResult(temporaryPath, finalPath);
            return new ChunkOutcome(chunk.RowCount, failed, firstFailedRow, firstError, published);
        }
        finally
        {
            if (File.Exists(temporaryPath))
            {
                File.Delete(temporaryPath);
            }
        }
    }

    private static async Task FlushBatchAsync(
        OnnxModel model, RowBatch batch, List<(long Row, string? Error)> pending, string[] outputNames,
        ResultLineWriter writer, CancellationToken cancellationToken)
    {
        TensorBuffer[] outputs = [];
        var columns = Array.Empty<OutputColumn>();
        if (batch.Count > 0)
        {
            var inputs = CreateInputs(batch);
            try
            {
                outputs = model.Run(inputs, outputNames);
            }
            finally
            {
                foreach (var input in inputs)
                {
                    input.Dispose();
                }
            }
            columns = new OutputColumn[outputs.Length];
            for (var i = 0; i < outputs.Length; i++)
            {
                var output = outputs[i];
                if (output.Shape.Length == 0 || output.Shape[0] != batch.Count)
                {
                    throw new InvalidDataException($"Output '{output.Name}' has shape [{string.Join(", ", output.Shape)}]; expected {batch.Count} rows along the first axis.");
                }
                var rowShape = output.Shape[1..];
                columns[i] = new OutputColumn(outputNames[i], output.DataType.ToV2Name(), output.Memory, rowShape,
                    (int)TensorBuffer.CountElements(rowShape));
            }
        }
        try
        {
            var slot = 0;
            foreach (var (row, error) in pending)
            {
                if (error is null)
                {
                    await writer.WriteOutputsAsync(row, columns, slot++, cancellationToken);
                }
                else
                {
                    await writer.WriteErrorAsync(row, error, cancellationToken);
                }
            }
        }
        finally
        {
            foreach (var output in outputs)
            {
                output.Dispose();
            }
        }
        pending.Clear();
        batch.Clear();
    }

    private static TensorBuffer[] CreateInputs(RowBatch batch)
    {
        var inputs = new TensorBuffer[batch.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            var spec = batch.Inputs[i];
            long[] shape = [batch.Count, .. spec.RowShape];
            var length = batch.Count * spec.ElementCount;
            inputs[i] = batch.Buffers[i] switch
            {
                float[] f => TensorBuffer.FromValues<float>(spec.Name, TensorDataType.FP32, shape, f.AsSpan(0, length)),
                double[] d => TensorBuffer.FromValues<double>(spec.Name, TensorDataType.FP64, shape, d.AsSpan(0, length)),
                int[] n => TensorBuffer.FromValues<int>(spec.Name, TensorDataType.Int32, shape, n.AsSpan(0, length)),
                long[] l => TensorBuffer.FromValues<long>(spec.Name, TensorDataType.Int64, shape, l.AsSpan(0, length)),
                bool[] b => TensorBuffer.FromValues<bool>(spec.Name, TensorDataType.Bool, shape, b.AsSpan(0, length)),
                _ => throw new NotSupportedException($"Input '{spec.Name}' has no buffer of a supported type."),
            };
        }
        return inputs;
    }
}
