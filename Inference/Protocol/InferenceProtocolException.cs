namespace MlPlatform.Inference.Protocol;

/// <summary>
/// A request the Open Inference Protocol rejects, with the HTTP status to answer (400 unless said otherwise) and a message
/// that names the offending input and what was expected.
/// </summary>
public sealed class InferenceProtocolException(string message, int statusCode = 400) : Exception(message)
{
    /// <summary>The HTTP status code to answer with.</summary>
    public int StatusCode { get; } = statusCode;
}
