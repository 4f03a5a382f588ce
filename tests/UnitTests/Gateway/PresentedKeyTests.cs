using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using MlPlatform.Gateway.Auth;

namespace MlPlatform.UnitTests.Gateway;

public sealed class PresentedKeyTests
{
    [Theory]
    [InlineData("Authorization", "Bearer abc-0123456789abcdef", "abc-0123456789abcdef")]
    [InlineData("Authorization", "bearer   abc-0123456789abcdef ", "abc-0123456789abcdef")]
    [InlineData("X-API-Key", "abc-0123456789abcdef", "abc-0123456789abcdef")]
    public void TheKeyIsReadFromEitherHeader(string header, string value, string expected)
    {
        var headers = new HeaderDictionary { [header] = value };

        Assert.Equal(expected, ApiKeyAuthenticationHandler.ReadPresentedKey(headers, out var problem));
        Assert.Null(problem);
    }

    [Fact]
    public void NoHeaderMeansNoKeyAndNoProblem()
    {
        Assert.Null(ApiKeyAuthenticationHandler.ReadPresentedKey(new HeaderDictionary(), out var problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("Basic YWRtaW46a2V5", null, "Only the Bearer scheme")]
    [InlineData("Bearer one-0123456789abcdef", "two-0123456789abcdef", "different keys")]
    [InlineData("Bearer ", null, "empty")]
    public void AnUnusableCredentialIsAProblem(string authorization, string? apiKey, string reason)
    {
        var headers = new HeaderDictionary { ["Authorization"] = authorization };
        if (apiKey is not null)
        {
            headers["X-API-Key"] = apiKey;
        }

        Assert.Null(ApiKeyAuthenticationHandler.ReadPresentedKey(headers, out var problem));
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void TwoKeysInOneHeaderAreAProblem()
    {
        var headers = new HeaderDictionary { ["X-API-Key"] = new(["a-0123456789abcdef", "b-0123456789abcdef"]) };

        Assert.Null(ApiKeyAuthenticationHandler.ReadPresentedKey(headers, out var problem));
        Assert.Contains("one API key", problem);
    }

    [Fact]
    public void TheInternalCredentialMatchesOnlyItself()
    {
        var credential = InternalCredential.FromKey("internal-key-0123456789abcdef0123456789")!;

        Assert.True(credential.Matches("internal-key-0123456789abcdef0123456789"));
        Assert.False(credential.Matches("internal-key-0123456789abcdef012345678"));
        Assert.False(credential.Matches(""));
        Assert.False(credential.Matches(null));
        Assert.Null(InternalCredential.FromKey(""));
    }
}
