namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// A version the registry knows could not be loaded (its artifact is missing or corrupt, ONNX Runtime refused it): a server fault of that
/// version, answered 503, unlike the other 503s (back-pressure) that a caller can provoke.
/// </summary>
public sealed class VersionLoadException(string message, Exception innerException) : Exception(message, innerException);
