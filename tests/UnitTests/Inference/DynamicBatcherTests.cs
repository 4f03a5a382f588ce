using MlPlatform.Inference.Batching;
using MlPlatform.Inference.Tensors;
using static MlPlatform.UnitTests.Inference.TestModels;

namespace MlPlatform.UnitTests.Inference;

public sealed class DynamicBatcherTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ConcurrentRequestsAreStackedAndGetTheirOwnRowsBack()
    {
        using var model = Load("conv.onnx");
        var runs = new List<long>();
        var gate = new ManualResetEventSlim();
        await using var batcher = new DynamicBatcher((inputs, outputs) =>
        {
            lock (runs)
            {
                runs.Add(inputs[0].Shape[0]);
            }
            // The first run holds the only instance until the others have queued behind it.
            gate.Wait(Timeout);
            return model.Run(inputs, outputs);
        }, model.OutputNames, new BatchingPolicy(32, TimeSpan.Zero), queueCapacity: 64);

        var random = new Random(3);
        var images = Enumerable.Range(0, 24).Select(i =>
        {
            var rows = 1 + i % 2;
            var values = new float[rows * 3 * 32 * 32];
            for (var k = 0; k < values.Length; k++)
            {
                values[k] = (float)random.NextDouble();
            }
            return TensorBuffer.FromValues<float>("image", TensorDataType.FP32, [rows, 3, 32, 32], values);
        }).ToList();

        var first = Task.Run(() => batcher.RunAsync([images[0]], CancellationToken.None));
        await WaitUntil(() => runs.Count == 1);
        var rest = images.Skip(1).Select(image => batcher.RunAsync([image], CancellationToken.None)).ToList();
        Assert.Equal(images.Count - 1, batcher.QueueLength);
        gate.Set();
        var batched = await Task.WhenAll(rest.Prepend(first)).WaitAsync(Timeout);

        Assert.Contains(runs, rows => rows > 2);
        for (var i = 0; i < images.Count; i++)
        {
            var alone = model.Run([images[i]], model.OutputNames);
            var expected = alone[0].AsSpan<float>().ToArray();
            var actual = batched[i].Outputs[0].AsSpan<float>().ToArray();
            Assert.Equal(images[i].Shape[0], batched[i].Outputs[0].Shape[0]);
            Assert.Equal(expected.Length, actual.Length);
            for (var k = 0; k < expected.Length; k++)
            {
                Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-5 * Math.Max(1, Math.Abs(expected[k])), $"request {i} element {k}: {expected[k]} vs {actual[k]}");
            }
            alone[0].Dispose();
            batched[i].Outputs[0].Dispose();
            images[i].Dispose();
        }
    }

    [Fact]
    public async Task RequestsWithDifferentNonBatchDimensionsAreNeverStackedTogether()
    {
        using var model = Load("seqsum.onnx");
        var shapes = new List<long[]>();
        var gate = new ManualResetEventSlim();
        await using var batcher = new DynamicBatcher((inputs, outputs) =>
        {
            gate.Wait(Timeout);
            lock (shapes)
            {
                shapes.Add(inputs[0].Shape);
            }
            return model.Run(inputs, outputs);
        }, model.OutputNames, new BatchingPolicy(16, TimeSpan.Zero), queueCapacity: 16);

        var blocker = TensorBuffer.FromValues<float>("tokens", TensorDataType.FP32, [1, 1], [0]);
        var first = Task.Run(() => batcher.RunAsync([blocker], CancellationToken.None));
        await WaitUntil(() => batcher.QueueLength == 0 && shapes.Count == 0 && Running(batcher));
        var shortOnes = Enumerable.Range(0, 3).Select(i => TensorBuffer.FromValues<float>("tokens", TensorDataType.FP32, [1, 2], [i, 1])).ToList();
        var longOnes = Enumerable.Range(0, 3).Select(i => TensorBuffer.FromValues<float>("tokens", TensorDataType.FP32, [1, 3], [i, 1, 1])).ToList();
        var pending = shortOnes.Concat(longOnes).OrderBy(t => t.Shape[1] * 10 % 7).Select(t => batcher.RunAsync([t], CancellationToken.None)).ToList();
        gate.Set();
        var results = await Task.WhenAll(pending).WaitAsync(Timeout);
        (await first).Outputs[0].Dispose();

        Assert.All(shapes, shape => Assert.True(shape[1] is 1 or 2 or 3));
        Assert.Contains(shapes, shape => shape[0] == 3 && shape[1] == 2);
        Assert.Contains(shapes, shape => shape[0] == 3 && shape[1] == 3);
        var totals = results.Select(r => r.Outputs[0].AsSpan<float>()[0]).Order().ToArray();
        Assert.Equal([1f, 2, 2, 3, 3, 4], totals);
    }

    [Fact]
    public async Task AFullQueueRefusesInsteadOfWaiting()
    {
        var gate = new ManualResetEventSlim();
        await using var batcher = new DynamicBatcher((inputs, outputs) =>
        {
            gate.Wait(Timeout);
            return [TensorBuffer.FromValues<float>("y", TensorDataType.FP32, [inputs[0].Shape[0]], new float[inputs[0].Shape[0]])];
        }, ["y"], new BatchingPolicy(1, TimeSpan.Zero), queueCapacity: 2);
        using var input = TensorBuffer.FromValues<float>("x", TensorDataType.FP32, [1], [1]);

        var running = Task.Run(() => batcher.RunAsync([input], CancellationToken.None));
        await WaitUntil(() => Running(batcher));
        var queued = new[] { batcher.RunAsync([input], CancellationToken.None), batcher.RunAsync([input], CancellationToken.None) };

        var error = Assert.Throws<BatchQueueFullException>(() => { _ = batcher.RunAsync([input], CancellationToken.None); });
        Assert.Equal(2, error.Capacity);
        gate.Set();
        foreach (var result in await Task.WhenAll(queued.Append(running)).WaitAsync(Timeout))
        {
            result.Outputs[0].Dispose();
        }
    }

    [Fact]
    public async Task ARequestTheModelRejectsDoesNotFailTheOthersInItsBatch()
    {
        var gate = new ManualResetEventSlim();
        await using var batcher = new DynamicBatcher((inputs, outputs) =>
        {
            gate.Wait(Timeout);
            var values = inputs[0].AsSpan<float>();
            if (values.Contains(-1f))
            {
                throw new InvalidOperationException("model rejects -1");
            }
            return [TensorBuffer.FromValues<float>("y", TensorDataType.FP32, [inputs[0].Shape[0]], values)];
        }, ["y"], new BatchingPolicy(8, TimeSpan.Zero), queueCapacity: 8);
        using var blocker = TensorBuffer.FromValues<float>("x", TensorDataType.FP32, [1], [0]);
        using var good = TensorBuffer.FromValues<float>("x", TensorDataType.FP32, [1], [5]);
        using var bad = TensorBuffer.FromValues<float>("x", TensorDataType.FP32, [1], [-1]);

        var first = Task.Run(() => batcher.RunAsync([blocker], CancellationToken.None));
        await WaitUntil(() => Running(batcher));
        var goodTask = batcher.RunAsync([good], CancellationToken.None);
        var badTask = batcher.RunAsync([bad], CancellationToken.None);
        gate.Set();

        var result = await goodTask.WaitAsync(Timeout);
        Assert.Equal(5f, result.Outputs[0].AsSpan<float>()[0]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => badTask.WaitAsync(Timeout));
        (await first).Outputs[0].Dispose();
        result.Outputs[0].Dispose();
    }

    /// <summary>Whether every instance is busy: a probe request would queue instead of running inline.</summary>
    private static bool Running(DynamicBatcher batcher) => batcher.BusyInstances > 0;

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(5);
        }
    }
}
