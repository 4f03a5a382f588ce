using System.Text;
using MlPlatform.BatchScorer.Profiles;
using Xunit;

namespace MlPlatform.UnitTests.Batch;

/// <summary>The body of <c>POST .../reference</c>: the audit's bodies answered 500 through the framework's binding.</summary>
public sealed class ReferenceRequestReaderTests
{
    private static (string? JobId, string? Error) Read(string body) => ReferenceRequestReader.Read(Encoding.UTF8.GetBytes(body));

    [Theory]
    [InlineData("garbage", "The body is not valid JSON")]
    [InlineData("{\"jobId\":5}", "'jobId' must be a string (the id of a succeeded batch job), not a number")]
    [InlineData("[]", "The body must be a JSON object, not an array")]
    [InlineData("{\"jobId\":\"8f3c", "The body is not valid JSON")]
    [InlineData("{}", "'jobId' is required")]
    [InlineData("{\"jobId\":null}", "'jobId' is required")]
    [InlineData("{\"jobId\":\"  \"}", "'jobId' is required")]
    [InlineData(" \n", "The body is empty")]
    public void ABadBodyIsRefusedSayingWhatIsWrong(string body, string error)
    {
        var (jobId, message) = Read(body);
        Assert.Null(jobId);
        Assert.Contains(error, message);
    }

    [Theory]
    [InlineData("{\"jobId\":\"8f3c01\"}")]
    [InlineData("\uFEFF{\"JobId\":\"8f3c01\",\"other\":1}")]
    public void TheJobIdIsRead(string body) => Assert.Equal(("8f3c01", (string?)null), Read(body));
}
