using System.Net;
using MlPlatform.Cli.Gateway;

namespace MlPlatform.UnitTests.Cli;

public sealed class ErrorLineTests
{
    [Fact]
    public void AProblemDetailsBecomesItsDetail() =>
        Assert.Equal("422 Unprocessable Entity: ONNX Runtime cannot load the model: bad protobuf",
            GatewayClient.DescribeError(HttpStatusCode.UnprocessableEntity,
                """{"type":"x","title":"Not a servable model","status":422,"detail":"ONNX Runtime cannot load the model: bad protobuf"}""", hadKey: true));

    [Fact]
    public void AProblemWithoutDetailFallsBackToItsTitle() =>
        Assert.Equal("409 Conflict: Nothing to roll back to",
            GatewayClient.DescribeError(HttpStatusCode.Conflict, """{"title":"Nothing to roll back to","status":409}""", hadKey: true));

    [Fact]
    public void AV2ErrorBecomesItsMessage() =>
        Assert.Equal("400 Bad Request: Input 'input': expected FP32",
            GatewayClient.DescribeError(HttpStatusCode.BadRequest, """{"error":"Input 'input': expected FP32"}""", hadKey: true));

    [Fact]
    public void ValidationErrorsAreListedOnTheSameLine() =>
        Assert.Equal("400 Bad Request: One or more validation errors occurred. (pageSize: Must be 1-500.)",
            GatewayClient.DescribeError(HttpStatusCode.BadRequest,
                """{"title":"One or more validation errors occurred.","errors":{"pageSize":["Must be 1-500."]}}""", hadKey: true));

    [Fact]
    public void UnauthorizedSaysHowToGiveAKey()
    {
        Assert.Contains("no API key given", GatewayClient.DescribeError(HttpStatusCode.Unauthorized, "{}", hadKey: false));
        Assert.Contains("was not accepted", GatewayClient.DescribeError(HttpStatusCode.Unauthorized, "{}", hadKey: true));
    }

    [Fact]
    public void ABodyThatIsNotJsonFallsBackToTheStatus() =>
        Assert.Equal("502 Bad Gateway", GatewayClient.DescribeError(HttpStatusCode.BadGateway, new string('<', 500), hadKey: true));

    [Theory]
    [InlineData(HttpStatusCode.NotFound, ExitCodes.NotFound)]
    [InlineData(HttpStatusCode.BadRequest, ExitCodes.Refused)]
    [InlineData(HttpStatusCode.Unauthorized, ExitCodes.Refused)]
    [InlineData(HttpStatusCode.Forbidden, ExitCodes.Refused)]
    [InlineData(HttpStatusCode.Conflict, ExitCodes.Refused)]
    [InlineData(HttpStatusCode.UnprocessableEntity, ExitCodes.Refused)]
    [InlineData(HttpStatusCode.TooManyRequests, ExitCodes.Refused)]
    [InlineData(HttpStatusCode.ServiceUnavailable, ExitCodes.Unreachable)]
    [InlineData(HttpStatusCode.GatewayTimeout, ExitCodes.Unreachable)]
    public void StatusCodesMapToTheDocumentedExitCodes(HttpStatusCode status, int exitCode) =>
        Assert.Equal(exitCode, GatewayClient.ExitCodeFor(status));
}
