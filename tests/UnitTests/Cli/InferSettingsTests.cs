using MlPlatform.Cli.Commands;

namespace MlPlatform.UnitTests.Cli;

public sealed class InferSettingsTests
{
    [Theory]
    // "localhost:8001" is an absolute URI whose scheme is "localhost": the channel failed with an exception's type name.
    [InlineData("localhost:8001")]
    [InlineData("ftp://localhost:8001")]
    [InlineData("8001")]
    public void AGrpcAddressThatIsNotAnHttpUrlIsRefusedBeforeAnyCall(string address)
    {
        var result = new InferSettings { Name = "iris", Input = MlPlatform.Cli.CliApp.StdinArgument, Grpc = address }.Validate();

        Assert.False(result.Successful);
        Assert.Equal($"--grpc must be a URL such as http://localhost:8001, not '{address}'.", result.Message);
    }

    [Theory]
    [InlineData("http://localhost:8001")]
    [InlineData("https://gateway.example:443")]
    public void AnHttpOrHttpsGrpcAddressIsTaken(string address) =>
        Assert.True(new InferSettings { Name = "iris", Input = MlPlatform.Cli.CliApp.StdinArgument, Grpc = address }.Validate().Successful);
}
