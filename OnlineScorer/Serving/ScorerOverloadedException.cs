namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// Back-pressure: the scorer cannot take this request now (its in-flight memory budget is held by other requests, or as many versions as it
/// loads at once are loading). Answered 503 with <c>Retry-After</c> over HTTP and RESOURCE_EXHAUSTED over gRPC, like a full batch queue.
/// </summary>
public sealed class ScorerOverloadedException(string message) : Exception(message);
