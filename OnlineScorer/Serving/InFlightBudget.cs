using System.Globalization;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Protocol;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// The bytes of request bodies and decoded tensors held by requests in flight, against <see cref="InferenceLimitsOptions.MaxInFlightBytes"/>.
/// A request reserves what it will hold before it reads its body, so a wave of large requests is refused (503) instead of growing the heap.
/// It also counts those requests (<see cref="Requests"/>): every REST and gRPC infer call from its body read to its response, which is
/// the scorer's measure of production work in flight (the shadow worker yields to it: <see cref="MlPlatform.OnlineScorer.Shadow.ShadowGate"/>).
/// </summary>
public sealed class InFlightBudget(IOptions<InferenceLimitsOptions> options)
{
    private long _used;
    private int _requests;

    /// <summary>The budget in bytes.</summary>
    public long Capacity { get; } = options.Value.EffectiveMaxInFlightBytes;

    /// <summary>Bytes reserved right now.</summary>
    public long Used => Interlocked.Read(ref _used);

    /// <summary>Requests holding a reservation right now (shadow copies never reserve: they are not production's work).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Raised on the ending request's thread with the requests still in flight; handlers must be cheap and never block.</summary>
    public event Action<int>? RequestEnded;

    /// <summary>Reserves <paramref name="bytes"/> more, or throws.</summary>
    /// <param name="bytes">The bytes to add to the request's reservation.</param>
    /// <param name="newRequest">This is the request's first reservation: it counts in <see cref="Requests"/> from now on.</param>
    /// <exception cref="InferenceProtocolException">413 when the request alone is larger than the budget.</exception>
    /// <exception cref="ScorerOverloadedException">The budget is held by other requests.</exception>
    public void Reserve(long bytes, bool newRequest = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes > Capacity)
        {
            throw new InferenceProtocolException(
                $"The request needs about {bytes} bytes of memory (body and decoded tensors); this scorer's in-flight budget is {Capacity}.",
                StatusCodes.Status413PayloadTooLarge);
        }
        var used = Interlocked.Add(ref _used, bytes);
        if (used > Capacity)
        {
            Interlocked.Add(ref _used, -bytes);
            throw new ScorerOverloadedException(
                $"The scorer is holding its in-flight memory budget ({Capacity.ToString(CultureInfo.InvariantCulture)} bytes) for other requests; retry.");
        }
        if (newRequest)
        {
            Interlocked.Increment(ref _requests);
        }
    }

    /// <summary>Gives back <paramref name="bytes"/> reserved earlier.</summary>
    /// <param name="bytes">The bytes to give back.</param>
    /// <param name="endsRequest">This is the request's last release: it no longer counts in <see cref="Requests"/>.</param>
    public void Release(long bytes, bool endsRequest = false)
    {
        if (bytes > 0)
        {
            Interlocked.Add(ref _used, -bytes);
        }
        if (endsRequest)
        {
            var left = Interlocked.Decrement(ref _requests);
            RequestEnded?.Invoke(left);
        }
    }
}

/// <summary>The memory this process may use: the cgroup limit when one is set, else what the runtime sees.</summary>
internal static class MemoryLimit
{
    private const string CgroupV2 = "/sys/fs/cgroup/memory.max";
    private const string CgroupV1 = "/sys/fs/cgroup/memory/memory.limit_in_bytes";

    /// <summary>Half the cgroup limit, else a quarter of the memory available to the runtime.</summary>
    public static long DefaultBudget()
    {
        var available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return ReadCgroupLimit() is { } limit ? limit / 2 : available / 4;
    }

    private static long? ReadCgroupLimit()
    {
        foreach (var path in new[] { CgroupV2, CgroupV1 })
        {
            try
            {
                var text = File.Exists(path) ? File.ReadAllText(path).Trim() : null;
                // "max" (v2) or a huge number (v1) means no limit.
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is > 0 and < long.MaxValue / 2)
                {
                    return limit;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return null;
    }
}
