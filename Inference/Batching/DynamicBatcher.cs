using System.Diagnostics;
using System.Threading.Channels;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.Inference.Batching;

/// <summary>How a <see cref="DynamicBatcher"/> forms batches; may be replaced while it runs (<see cref="DynamicBatcher.Policy"/>).</summary>
/// <param name="MaxBatchSize">Most rows (sum of first dimensions) in one run.</param>
/// <param name="MaxQueueDelay">How long the first request of a batch may wait for more; zero takes only what is already queued.</param>
public sealed record BatchingPolicy(int MaxBatchSize, TimeSpan MaxQueueDelay);

/// <summary>The outputs of one request that went through a batch, with where its time went.</summary>
/// <param name="Outputs">Outputs in the batcher's output order; the caller disposes them.</param>
/// <param name="QueueTime">From enqueue to the start of the run.</param>
/// <param name="ComputeTime">The run (stacking and splitting included).</param>
/// <param name="BatchRows">Rows in the run this request was part of.</param>
public readonly record struct BatchResult(TensorBuffer[] Outputs, TimeSpan QueueTime, TimeSpan ComputeTime, long BatchRows);

/// <summary>The batcher's bounded queue is full; the client should retry later.</summary>
public sealed class BatchQueueFullException(int capacity)
    : Exception($"The batching queue is full ({capacity} requests waiting); retry later.")
{
    /// <summary>The queue's capacity.</summary>
    public int Capacity { get; } = capacity;
}

/// <summary>
/// Dynamic batching for one model version: requests queue while a run is in progress; the next run takes what is queued
/// (waiting at most <see cref="BatchingPolicy.MaxQueueDelay"/> for more) up to <see cref="BatchingPolicy.MaxBatchSize"/> rows,
/// stacking only requests whose non-batch dimensions match, and splits the outputs back.
/// </summary>
/// <remarks>
/// Inputs of every request must be in the same order (the signature's) with the batch on the first axis; outputs must carry
/// the batch on their first axis too. A failed multi-request run is retried request by request, so one bad request cannot fail its neighbours.
/// </remarks>
public sealed class DynamicBatcher : IAsyncDisposable
{
    private readonly Func<IReadOnlyList<TensorBuffer>, IReadOnlyList<string>, CancellationToken, TensorBuffer[]> _run;
    private readonly IReadOnlyList<string> _outputNames;
    private readonly Channel<WorkItem> _queue;
    private readonly Task[] _workers;
    private readonly int _capacity;
    private readonly SemaphoreSlim _instances;

    /// <summary>Starts <paramref name="workers"/> loops that take batches from a queue of <paramref name="queueCapacity"/> requests.</summary>
    /// <param name="run">Runs the model on stacked inputs and returns outputs in <paramref name="outputNames"/> order.</param>
    /// <param name="outputNames">The outputs every run computes.</param>
    /// <param name="policy">The initial batching policy.</param>
    /// <param name="queueCapacity">Requests that may wait; more are refused with <see cref="BatchQueueFullException"/>.</param>
    /// <param name="workers">Concurrent runs (model instances).</param>
    public DynamicBatcher(Func<IReadOnlyList<TensorBuffer>, IReadOnlyList<string>, TensorBuffer[]> run, IReadOnlyList<string> outputNames,
        BatchingPolicy policy, int queueCapacity, int workers = 1)
        : this(WithoutCancellation(run), outputNames, policy, queueCapacity, workers)
    {
    }

    /// <summary>Starts <paramref name="workers"/> loops over a run that can be stopped.</summary>
    /// <param name="run">
    /// Runs the model on stacked inputs; its token is cancelled once every request in the batch has gone (a run serving anyone goes on).
    /// </param>
    /// <param name="outputNames">The outputs every run computes.</param>
    /// <param name="policy">The initial batching policy.</param>
    /// <param name="queueCapacity">Requests that may wait; more are refused with <see cref="BatchQueueFullException"/>.</param>
    /// <param name="workers">Concurrent runs (model instances).</param>
    public DynamicBatcher(Func<IReadOnlyList<TensorBuffer>, IReadOnlyList<string>, CancellationToken, TensorBuffer[]> run, IReadOnlyList<string> outputNames,
        BatchingPolicy policy, int queueCapacity, int workers = 1)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(outputNames);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(policy.MaxBatchSize, 1);
        _run = run;
        _outputNames = outputNames;
        Policy = policy;
        _capacity = queueCapacity;
        _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(queueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = false,
            SingleReader = workers == 1,
        });
        _instances = new SemaphoreSlim(workers, workers);
        _workers = new Task[workers];
        for (var i = 0; i < workers; i++)
        {
            _workers[i] = Task.Run(WorkAsync);
        }
    }

    private static Func<IReadOnlyList<TensorBuffer>, IReadOnlyList<string>, CancellationToken, TensorBuffer[]> WithoutCancellation(
        Func<IReadOnlyList<TensorBuffer>, IReadOnlyList<string>, TensorBuffer[]> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return (inputs, outputs, _) => run(inputs, outputs);
    }

    /// <summary>The current policy; replace it to change batch size or delay without restarting.</summary>
    public BatchingPolicy Policy
    {
        get => Volatile.Read(ref field);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            ArgumentOutOfRangeException.ThrowIfLessThan(value.MaxBatchSize, 1);
            Volatile.Write(ref field, value);
        }
    }

    /// <summary>Requests waiting for a run.</summary>
    public int QueueLength => _queue.Reader.Count;

    /// <summary>Instances running a request or a batch right now.</summary>
    public int BusyInstances => _workers.Length - _instances.CurrentCount;

    /// <summary>Queues a request and returns its share of the batch's outputs.</summary>
    /// <param name="inputs">The request's inputs (not disposed by the batcher), batch on the first axis.</param>
    /// <param name="cancellationToken">Abandons the request if it has not started running.</param>
    /// <exception cref="BatchQueueFullException">The queue is full.</exception>
    /// <exception cref="ChannelClosedException">The batcher is shutting down.</exception>
    public Task<BatchResult> RunAsync(IReadOnlyList<TensorBuffer> inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0 || inputs[0].Shape.Length == 0)
        {
            throw new ArgumentException("Batched inputs need a first (batch) axis.", nameof(inputs));
        }
        // Fast path: nothing queued, an instance idle and no delay to wait out: run on the caller's thread, skipping two thread hops.
        if (_queue.Reader.Count == 0 && Policy.MaxQueueDelay <= TimeSpan.Zero && _instances.Wait(0))
        {
            var item = new WorkItem(inputs, cancellationToken);
            try
            {
                RunAlone(item, System.Diagnostics.Stopwatch.GetTimestamp());
            }
            finally
            {
                _instances.Release();
            }
            return item.Completion.Task;
        }
        var queued = new WorkItem(inputs, cancellationToken);
        if (!_queue.Writer.TryWrite(queued))
        {
            if (_queue.Reader.Completion.IsCompleted)
            {
                throw new ChannelClosedException();
            }
            throw new BatchQueueFullException(_capacity);
        }
        return queued.Completion.Task;
    }

    private async Task WorkAsync()
    {
        var reader = _queue.Reader;
        var held = new List<WorkItem>();
        var batch = new List<WorkItem>();
        while (held.Count > 0 || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // While every instance is busy, requests keep queueing: the batch is formed only once an instance is free.
            await _instances.WaitAsync().ConfigureAwait(false);
            try
            {
                await FormAndRunBatchAsync(reader, held, batch).ConfigureAwait(false);
            }
            finally
            {
                _instances.Release();
            }
        }
    }

    private async Task FormAndRunBatchAsync(ChannelReader<WorkItem> reader, List<WorkItem> held, List<WorkItem> batch)
    {
        {
            var policy = Policy;
            batch.Clear();
            WorkItem first;
            if (held.Count > 0)
            {
                first = held[0];
                held.RemoveAt(0);
            }
            else if (!reader.TryRead(out first!))
            {
                return;
            }
            if (first.IsAbandoned)
            {
                return;
            }
            batch.Add(first);
            var rows = first.Rows;
            var deadline = Stopwatch.GetTimestamp() + (long)(policy.MaxQueueDelay.TotalSeconds * Stopwatch.Frequency);

            for (var i = 0; i < held.Count && rows < policy.MaxBatchSize; i++)
            {
                var candidate = held[i];
                if (candidate.Rows + rows <= policy.MaxBatchSize && first.Stacks(candidate))
                {
                    batch.Add(candidate);
                    rows += candidate.Rows;
                    held.RemoveAt(i--);
                }
            }
            while (rows < policy.MaxBatchSize)
            {
                if (reader.TryRead(out var item))
                {
                    if (item.IsAbandoned)
                    {
                        continue;
                    }
                    if (item.Rows + rows <= policy.MaxBatchSize && first.Stacks(item))
                    {
                        batch.Add(item);
                        rows += item.Rows;
                    }
                    else
                    {
                        held.Add(item);
                        if (item.Rows + rows > policy.MaxBatchSize)
                        {
                            break;
                        }
                    }
                    continue;
                }
                var remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    break;
                }
                var wait = reader.WaitToReadAsync().AsTask();
                var timeout = TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency);
                if (await Task.WhenAny(wait, Task.Delay(timeout)).ConfigureAwait(false) != wait || !await wait.ConfigureAwait(false))
                {
                    break;
                }
            }
            Execute(batch, rows);
        }
    }

    private void Execute(List<WorkItem> batch, long rows)
    {
        var started = Stopwatch.GetTimestamp();
        if (batch.Count == 1)
        {
            RunAlone(batch[0], started);
            return;
        }

        var inputCount = batch[0].Inputs.Count;
        var stacked = new TensorBuffer[inputCount];
        TensorBuffer[]? outputs = null;
        try
        {
            var parts = new TensorBuffer[batch.Count];
            for (var i = 0; i < inputCount; i++)
            {
                for (var j = 0; j < batch.Count; j++)
                {
                    parts[j] = batch[j].Inputs[i];
                }
                stacked[i] = TensorBuffer.Concatenate(parts[0].Name, parts);
            }
            using (var allGone = new AllGone(batch))
            {
                outputs = _run(stacked, _outputNames, allGone.Token);
            }
            foreach (var output in outputs)
            {
                if (output.Shape.Length == 0 || output.Shape[0] != rows)
                {
                    throw new InvalidOperationException($"Output '{output.Name}' has shape {TensorSpec.FormatShape(output.Shape)}, not {rows} rows; the model cannot be batched.");
                }
            }
            var split = new TensorBuffer[batch.Count][];
            long offset = 0;
            for (var j = 0; j < batch.Count; j++)
            {
                split[j] = new TensorBuffer[outputs.Length];
                for (var k = 0; k < outputs.Length; k++)
                {
                    split[j][k] = outputs[k].SliceRows(offset, batch[j].Rows);
                }
                offset += batch[j].Rows;
            }
            var computed = Stopwatch.GetElapsedTime(started);
            for (var j = 0; j < batch.Count; j++)
            {
                batch[j].Complete(split[j], started, computed, rows);
            }
        }
        catch (Exception)
        {
            // One request the model rejects must not fail the others: run each on its own (those gone meanwhile are not run again).
            foreach (var item in batch)
            {
                if (!item.IsAbandoned)
                {
                    RunAlone(item, Stopwatch.GetTimestamp());
                }
            }
        }
        finally
        {
            foreach (var tensor in stacked)
            {
                tensor?.Dispose();
            }
            if (outputs is not null)
            {
                foreach (var output in outputs)
                {
                    output.Dispose();
                }
            }
        }
    }

    private void RunAlone(WorkItem item, long started)
    {
        try
        {
            var outputs = _run(item.Inputs, _outputNames, item.CancellationToken);
            item.Complete(outputs, started, Stopwatch.GetElapsedTime(started), item.Rows);
        }
        catch (Exception) when (item.CancellationToken.IsCancellationRequested)
        {
            // Terminated because its request went away.
            item.Completion.TrySetCanceled(item.CancellationToken);
        }
        catch (Exception ex)
        {
            item.Completion.TrySetException(ex);
        }
    }

    /// <summary>Stops taking requests, finishes those queued, and waits for the workers.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
    }

    /// <summary>A token cancelled once every request of a batch is cancelled: the run then serves no one.</summary>
    private sealed class AllGone : IDisposable
    {
        private readonly CancellationTokenSource _source = new();
        private readonly CancellationTokenRegistration[] _registrations;
        private int _remaining;

        public AllGone(List<WorkItem> batch)
        {
            _remaining = batch.Count;
            _registrations = new CancellationTokenRegistration[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                _registrations[i] = batch[i].CancellationToken.UnsafeRegister(static state =>
                {
                    var self = (AllGone)state!;
                    if (Interlocked.Decrement(ref self._remaining) == 0)
                    {
                        self._source.Cancel();
                    }
                }, this);
            }
        }

        public CancellationToken Token => _source.Token;

        public void Dispose()
        {
            foreach (var registration in _registrations)
            {
                registration.Dispose();
            }
            _source.Dispose();
        }
    }

    private sealed class WorkItem(IReadOnlyList<TensorBuffer> inputs, CancellationToken cancellationToken)
    {
        private readonly long _enqueued = Stopwatch.GetTimestamp();

        public IReadOnlyList<TensorBuffer> Inputs { get; } = inputs;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public long Rows { get; } = inputs[0].Shape[0];

        public TaskCompletionSource<BatchResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsAbandoned
        {
            get
            {
                if (!CancellationToken.IsCancellationRequested)
                {
                    return false;
                }
                Completion.TrySetCanceled(CancellationToken);
                return true;
            }
        }

        public bool Stacks(WorkItem other)
        {
            if (other.Inputs.Count != Inputs.Count)
            {
                return false;
            }
            for (var i = 0; i < Inputs.Count; i++)
            {
                var mine = Inputs[i];
                var theirs = other.Inputs[i];
                if (mine.Name != theirs.Name || mine.DataType != theirs.DataType || !mine.Shape.AsSpan(1).SequenceEqual(theirs.Shape.AsSpan(1)))
                {
                    return false;
                }
            }
            return true;
        }

        public void Complete(TensorBuffer[] outputs, long started, TimeSpan compute, long rows)
        {
            var queued = Stopwatch.GetElapsedTime(_enqueued, started);
            if (!Completion.TrySetResult(new BatchResult(outputs, queued, compute, rows)))
            {
                foreach (var output in outputs)
                {
                    output.Dispose();
                }
            }
        }
    }
}
