namespace MlPlatform.BatchScorer.Input;

/// <summary>The submitted input cannot become a job; the message is shown to the client as the problem's detail.</summary>
public sealed class InputRejectedException(string message, int statusCode = StatusCodes.Status400BadRequest) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}
