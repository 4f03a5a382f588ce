using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using MlPlatform.Gateway.Auth;

namespace MlPlatform.UnitTests.Gateway;

public sealed class ApiKeyOptionsTests
{
    private const string Key = "a-key-of-the-platform-0123456789";

    private static ApiKeyOptionsValidator Validator(string environment) => new(new Environment(environment));

    [Fact]
    public void AGatewayWithoutKeysRefusesToStartOutsideDevelopment()
    {
        var result = Validator(Environments.Production).Validate(null, new ApiKeyOptions());

        Assert.True(result.Failed);
        Assert.Contains("refuses to start", result.FailureMessage);
        Assert.Contains("admin-api-key", result.FailureMessage);
    }

    [Fact]
    public void AGatewayWithoutKeysStartsInDevelopment()
    {
        Assert.True(Validator(Environments.Development).Validate(null, new ApiKeyOptions()).Succeeded);
    }

    [Theory]
    [InlineData("root", Key, null, "must be one of reader, operator, admin")]
    [InlineData("admin", "short-key", null, "shorter than 16")]
    [InlineData("admin", Key, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "exactly one of Key or Sha256")]
    [InlineData("admin", null, "not-hex", "64 hexadecimal digits")]
    public void ABadKeyEntryFailsStartWithItsReason(string role, string? key, string? sha256, string reason)
    {
        var options = new ApiKeyOptions { Keys = { ["ci"] = new ApiKeyEntry { Role = role, Key = key, Sha256 = sha256 } } };

        var result = Validator(Environments.Production).Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("ApiKeys:Keys:ci", result.FailureMessage);
        Assert.Contains(reason, result.FailureMessage);
    }

    [Fact]
    public void AnEntryWithNeitherKeyNorDigestIsAnUnsetOptionalKey()
    {
        var options = new ApiKeyOptions
        {
            Keys =
            {
                ["admin"] = new ApiKeyEntry { Role = GatewayRoles.Admin, Key = Key },
                ["operator"] = new ApiKeyEntry { Role = GatewayRoles.Operator, Key = "" },
            },
        };

        Assert.True(Validator(Environments.Production).Validate(null, options).Succeeded);
        Assert.Equal(1, new ApiKeyStore(options).Count);
        Assert.Null(new ApiKeyStore(options).Find(""));
    }

    [Fact]
    public void OnlyUnsetEntriesCountAsNoKeyOutsideDevelopment()
    {
        var options = new ApiKeyOptions { Keys = { ["admin"] = new ApiKeyEntry { Role = GatewayRoles.Admin, Key = "" } } };

        Assert.Contains("refuses to start", Validator(Environments.Production).Validate(null, options).FailureMessage);
    }

    [Fact]
    public void TheSameKeyUnderTwoIdsFailsStart()
    {
        var options = new ApiKeyOptions
        {
            Keys =
            {
                ["admin"] = new ApiKeyEntry { Role = GatewayRoles.Admin, Key = Key },
                ["reader"] = new ApiKeyEntry { Role = GatewayRoles.Reader, Sha256 = ApiKeyStore.Sha256Hex(Key) },
            },
        };

        var result = Validator(Environments.Production).Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("are the same key", result.FailureMessage);
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "Gateway";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
