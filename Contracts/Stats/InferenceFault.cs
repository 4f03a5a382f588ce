namespace MlPlatform.Contracts;

/// <summary>
/// Whose fault an inference outcome was, decided once by the scorer. Only <see cref="Server"/> is the version's own failure, and only it
/// (with server latency) is judged by rollouts and the guard: the other kinds can be provoked by any caller.
/// </summary>
public enum InferenceFault
{
    /// <summary>Answered (<c>success</c>).</summary>
    None,

    /// <summary>The request was wrong: malformed body, unknown or missing input, wrong datatype or shape, too large, unknown output or version.</summary>
    Client,

    /// <summary>The version failed on a request that passed validation: ONNX Runtime failed, the run timed out, the version did not load.</summary>
    Server,

    /// <summary>Back-pressure: the queue was full, a byte budget or a rate limit was reached. Never judged.</summary>
    Rejected,
}

/// <summary>The names of <see cref="InferenceFault"/> in metrics (<c>fault</c> tag) and in the outcome vocabulary.</summary>
public static class InferenceFaults
{
    /// <summary>The <c>fault</c> metric tag: <c>none</c>, <c>client</c>, <c>server</c> or <c>rejected</c>.</summary>
    public static string Tag(this InferenceFault fault) => fault switch
    {
        InferenceFault.Client => "client",
        InferenceFault.Server => "server",
        InferenceFault.Rejected => "rejected",
        _ => "none",
    };

    /// <summary>The outcome class: <c>success</c>, <c>client_error</c>, <c>server_error</c> or <c>rejected</c>.</summary>
    public static string Outcome(this InferenceFault fault) => fault switch
    {
        InferenceFault.Client => "client_error",
        InferenceFault.Server => "server_error",
        InferenceFault.Rejected => "rejected",
        _ => "success",
    };

    /// <summary>
    /// The fault an answered status implies when nothing more specific is known: 2xx none; 429 and 503 rejected (back-pressure, retry
    /// later); any other 5xx server; any other 4xx client. Failures the status does not tell apart (a version that failed to load answers
    /// 503 but is a server fault) are classified where they happen.
    /// </summary>
    public static InferenceFault ForStatus(int statusCode) => statusCode switch
    {
        < 400 => InferenceFault.None,
        429 or 503 => InferenceFault.Rejected,
        >= 500 => InferenceFault.Server,
        _ => InferenceFault.Client,
    };
}
