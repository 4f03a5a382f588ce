using MlPlatform.ModelRegistry.Naming;

namespace MlPlatform.UnitTests.Registry;

public sealed class TagRulesTests
{
    [Theory]
    [InlineData("team=fraud,stage=dev")]
    [InlineData(" team = fraud , stage=dev ")]
    [InlineData("{\"team\":\"fraud\",\"stage\":\"dev\"}")]
    public void TagsParseFromPairsOrJson(string text)
    {
        Assert.True(TagRules.TryParse(text, out var tags, out var error), error);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "fraud", ["stage"] = "dev" }, tags);
    }

    [Fact]
    public void AValueMayContainEqualsSigns() =>
        Assert.Equal("a=b", TagRules.TryParse("expr=a=b", out var tags, out _) ? tags["expr"] : null);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void NoTextMeansNoTags(string? text)
    {
        Assert.True(TagRules.TryParse(text, out var tags, out _));
        Assert.Empty(tags);
    }

    [Theory]
    [InlineData("novalue")]
    [InlineData("=x")]
    [InlineData("a=1,a=2")]
    [InlineData("{\"a\": 1}")]
    [InlineData("{not json")]
    public void MalformedTagsAreRefusedWithAReason(string text)
    {
        Assert.False(TagRules.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void TooManyOrTooLongTagsAreRefused()
    {
        var many = string.Join(',', Enumerable.Range(0, TagRules.MaxTags + 1).Select(i => $"k{i}=v"));
        Assert.False(TagRules.TryParse(many, out _, out _));
        Assert.False(TagRules.TryParse($"k={new string('v', TagRules.MaxValueLength + 1)}", out _, out _));
        Assert.False(TagRules.TryParse($"{new string('k', TagRules.MaxKeyLength + 1)}=v", out _, out _));
    }
}
