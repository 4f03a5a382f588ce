using MlPlatform.Gateway.Auth;

namespace MlPlatform.UnitTests.Gateway;

public sealed class GatewayRolesTests
{
    [Theory]
    [InlineData("reader", "reader", true)]
    [InlineData("operator", "reader", true)]
    [InlineData("admin", "reader", true)]
    [InlineData("reader", "operator", false)]
    [InlineData("operator", "operator", true)]
    [InlineData("admin", "operator", true)]
    [InlineData("reader", "admin", false)]
    [InlineData("operator", "admin", false)]
    [InlineData("admin", "admin", true)]
    public void EachRoleIncludesTheOnesBelowIt(string held, string required, bool allowed)
    {
        Assert.Equal(allowed, GatewayRoles.Allows(held, required));
    }

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
