using MlPlatform.Gateway.Auth;

namespace MlPlatform.UnitTests.Gateway;

public sealed class ApiKeyStoreTests
{
    private const string AdminKey = "admin-key-0123456789abcdef";
    private const string ReaderKey = "reader-key-0123456789abcdef";

    private static ApiKeyStore Store() => new(new ApiKeyOptions
    {
        Keys =
        {
            ["admin"] = new ApiKeyEntry { Role = GatewayRoles.Admin, Key = AdminKey },
            ["dashboard"] = new ApiKeyEntry { Role = GatewayRoles.Reader, Sha256 = ApiKeyStore.Sha256Hex(ReaderKey) },
        },
    });

    [Fact]
    public void AConfiguredKeyIsFoundWithItsIdAndRole()
    {
        Assert.Equal(new ApiKeyIdentity("admin", GatewayRoles.Admin), Store().Find(AdminKey));
    }

    [Fact]
    public void AKeyConfiguredOnlyAsItsDigestIsFoundByTheKey()
    {
        Assert.Equal(new ApiKeyIdentity("dashboard", GatewayRoles.Reader), Store().Find(ReaderKey));
    }

    [Theory]
    [InlineData("")]
    [InlineData("admin-key-0123456789abcde")]
    [InlineData("admin-key-0123456789abcdef0")]
    [InlineData("ADMIN-KEY-0123456789ABCDEF")]
    [InlineData(" admin-key-0123456789abcdef")]
    public void AnythingButTheExactKeyIsUnknown(string presented)
    {
        Assert.Null(Store().Find(presented));
    }

    [Fact]
    public void TheDigestIsSha256OfTheUtf8BytesInLowercaseHex()
    {
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeyStore.Sha256Hex("abc"));
    }

    [Fact]
    public void AStoreWithoutKeysKnowsNoKey()
    {
        Assert.Null(new ApiKeyStore(new ApiKeyOptions()).Find(AdminKey));
    }
}
