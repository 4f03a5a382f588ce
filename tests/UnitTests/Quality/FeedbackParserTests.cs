using System.Text;
using System.Text.Json;
using MlPlatform.ModelRegistry.Quality;
using Xunit;

namespace MlPlatform.UnitTests.Quality;

public sealed class FeedbackParserTests
{
    private static readonly QualitySettings Regression = new(QualitySettings.Regression, "Score.output", null);

    private static (List<FeedbackItem>? Items, string? Error) Parse(string body, QualitySettings? settings = null, int max = 100) =>
        FeedbackParser.Parse(Encoding.UTF8.GetBytes(body), settings, max);

    [Fact]
    public void AnArrayAndJsonLinesGiveTheSameItems()
    {
        var (array, arrayError) = Parse("""[{"id":"a","label":"setosa"},{"id":"b","label":2,"at":"2026-12-01T10:00:00Z"},{"id":"c","label":[1,"x"]}]""");
        var (lines, linesError) = Parse("{\"id\":\"a\",\"label\":\"setosa\"}\r\n\n{\"id\":\"b\",\"label\":2,\"at\":\"2026-12-01T10:00:00Z\"}\n{\"id\":\"c\",\"label\":[1,\"x\"]}\n");
        Assert.Null(arrayError);
        Assert.Null(linesError);
        Assert.NotNull(array);
        Assert.NotNull(lines);
        Assert.Equal(["a", "b", "c"], array.Select(i => i.Id));
        Assert.Equal(array.Select(i => i.Label.GetRawText()), lines.Select(i => i.Label.GetRawText()));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), array[1].At);
        Assert.Equal(JsonValueKind.Array, array[2].Label.ValueKind);
    }

    [Theory]
    [InlineData("[\n{\"id\":\"a\",\"label\":1},\n{\"id\":\"b\",\"label\":{}}\n]", "line 3 (item 2): 'label' must be")]
    [InlineData("[\n{\"id\":\"a\",\"label\":1},\n{\"id\":\"b\",\"label\":", "line 3: malformed JSON")]
    [InlineData("[{\"id\":\"a\",\"label\":1}] trailing", "malformed JSON")]
    [InlineData("{\"id\":\"a\",\"label\":1}\n{\"id\":\"b\"}", "line 2: 'label' is missing")]
    [InlineData("{\"id\":\"a\",\"label\":1}\n\n{\"id\":\"b\" \"label\":1}", "line 3: malformed JSON")]
    [InlineData("{\"id\":\"\",\"label\":1}", "line 1: 'id' must be")]
    [InlineData("{\"id\":7,\"label\":1}", "line 1: 'id' must be")]
    [InlineData("{\"id\":\"a\",\"label\":null}", "'label' must be a number, a string or an array of them, not null")]
    [InlineData("{\"id\":\"a\",\"label\":[]}", "an array holds 1 to")]
    [InlineData("{\"id\":\"a\",\"label\":1,\"at\":\"soon\"}", "'at' must be an ISO 8601 time")]
    [InlineData("[1]", "line 1 (item 1): each item is an object")]
    [InlineData("[\n{\"id\":\"hp-1\",\"label\":1e400}]", "line 2 (item 1): 'label' 1e400 is not a finite number")]
    [InlineData("{\"id\":\"a\",\"label\":1}\n{\"id\":\"b\",\"label\":[1,-2e308]}", "line 2: 'label' -2e308 is not a finite number")]
    [InlineData("  ", "The body is empty")]
    public void ABadBodyIsRefusedNamingTheLine(string body, string error)
    {
        var (items, message) = Parse(body);
        Assert.Null(items);
        Assert.Contains(error, message);
    }

    [Theory]
    [InlineData("\uFEFF[{\"id\":\"a\",\"label\":\"setosa\"},{\"id\":\"b\",\"label\":2}]")]
    [InlineData("\uFEFF{\"id\":\"a\",\"label\":\"setosa\"}\n{\"id\":\"b\",\"label\":2}\n")]
    public void AByteOrderMarkIsSkipped(string body)
    {
        Assert.Equal(0xEF, Encoding.UTF8.GetBytes(body)[0]);
        var (items, error) = Parse(body);
        Assert.Null(error);
        Assert.Equal(["a", "b"], items!.Select(i => i.Id));
    }

    [Fact]
    public void RegressionLabelsMustBeNumbers()
    {
        Assert.Null(Parse("""[{"id":"a","label":1.5},{"id":"b","label":[1,2]}]""", Regression).Error);
        Assert.Contains("line 1 (item 1): 'label' must be a number or an array of numbers", Parse("""[{"id":"a","label":"high"}]""", Regression).Error);
    }

    [Fact]
    public void ABodyOverTheItemLimitIsRefused()
    {
        Assert.Contains("at most 2 labels", Parse("[{\"id\":\"a\",\"label\":1},{\"id\":\"b\",\"label\":1},{\"id\":\"c\",\"label\":1}]", max: 2).Error);
        Assert.Contains("line 3: a body holds at most 2", Parse("{\"id\":\"a\",\"label\":1}\n{\"id\":\"b\",\"label\":1}\n{\"id\":\"c\",\"label\":1}", max: 2).Error);
    }
}
