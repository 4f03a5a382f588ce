using MlPlatform.Contracts;

namespace MlPlatform.UnitTests.Registry;

public sealed class NameRulesTests
{
    [Theory]
    [InlineData("iris")]
    [InlineData("0")]
    [InlineData("fraud-detector_v2.onnx")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void ValidNamesAreAccepted(string name) => Assert.True(NameRules.IsValidName(name));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("a..b")]
    [InlineData(".hidden")]
    [InlineData("-dash")]
    [InlineData("Iris")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a b")]
    [InlineData("%2e%2e")]
    [InlineData("irïs")]
    [InlineData("a2345678901234567890123456789012345678901234567890123456789012345")]
    public void InvalidNamesAreRefused(string? name) => Assert.False(NameRules.IsValidName(name));

    [Theory]
    [InlineData("1", 1)]
    [InlineData("42", 42)]
    [InlineData("999999999", 999999999)]
    public void VersionsAreParsedFromPositiveIntegers(string text, int expected)
    {
        Assert.True(NameRules.TryParseVersion(text, out var version));
        Assert.Equal(expected, version);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("01")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.0")]
    [InlineData("abc")]
    [InlineData("1234567890")]
    [InlineData("")]
    public void VersionTextThatIsNotAPositiveIntegerIsRefused(string text) => Assert.False(NameRules.TryParseVersion(text, out _));

    [Fact]
    public void Sha256MustBe64LowercaseHexDigits()
    {
        Assert.True(NameRules.IsValidSha256(new string('a', 64)));
        Assert.False(NameRules.IsValidSha256(new string('A', 64)));
        Assert.False(NameRules.IsValidSha256(new string('a', 63)));
        Assert.False(NameRules.IsValidSha256("../" + new string('a', 61)));
    }

    [Fact]
    public void StatsIsAValidNameButReservedForModels()
    {
        Assert.True(NameRules.IsValidName("stats"));
        Assert.True(NameRules.IsReservedModelName("stats"));
        Assert.False(NameRules.IsReservedModelName("stats2"));
    }
}
