using MlPlatform.Gateway.Auth;

namespace MlPlatform.UnitTests.Gateway;

public sealed class GatewayRolesTests
{
    [Theory]
    [InlineData("Admin")]
    [InlineData("root")]
    [InlineData("")]
    public void OnlyTheThreeLowercaseRolesAreRoles(string role)
    {
        Assert.False(GatewayRoles.IsKnown(role));
        Assert.Throws<ArgumentException>(() => GatewayRoles.Satisfying(role));
    }
}
