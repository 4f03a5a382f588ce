using System.Text;
using MlPlatform.BatchScorer.Input;
using MlPlatform.BatchScorer.Jobs;

namespace MlPlatform.UnitTests.Batch;

public sealed class RowParserTests
{
    private static readonly RowInput Vector8 = new("input", "FP32", [8]);

    private static (bool Ok, string? Error) Parse(IRowParser parser, RowBatch batch, string line)
    {
        var ok = parser.TryParse(Encoding.UTF8.GetBytes(line), batch, out var error);
        if (ok)
        {
            batch.Commit();
        }
        return (ok, error);
    }

    [Fact]
    public void JsonlRowsFillConsecutiveSlotsOfTheBatch()
    {
        var batch = new RowBatch([Vector8], 4);
        var parser = new JsonlRowParser([Vector8]);

        Assert.True(Parse(parser, batch, "{\"input\":[1,2,3,4,5,6,7,8]}").Ok);
        Assert.True(Parse(parser, batch, "{\"id\":\"ignored\",\"input\":[0.5,-1e-3,0,0,0,0,0,9.25]}").Ok);

        Assert.Equal(2, batch.Count);
        var values = (float[])batch.Buffers[0];
        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8, 0.5f, -1e-3f, 0, 0, 0, 0, 0, 9.25f], values[..16]);
    }

    [Fact]
    public void JsonlNestedRowShapesAndScalarsAreRead()
    {
        RowInput matrix = new("m", "INT64", [2, 2]);
        RowInput scalar = new("s", "FP64", []);
        var batch = new RowBatch([matrix, scalar], 2);
        var parser = new JsonlRowParser([matrix, scalar]);

        Assert.True(Parse(parser, batch, "{\"s\":2.5,\"m\":[[1,2],[3,4]]}").Ok);

        Assert.Equal([1L, 2, 3, 4], ((long[])batch.Buffers[0])[..4]);
        Assert.Equal(2.5, ((double[])batch.Buffers[1])[0]);
    }

    [Theory]
    [InlineData("{\"input\":[1,2,3]}", "Input 'input': expected 8 values at nesting level 1, found 3 (row shape [8]).")]
    [InlineData("{\"input\":[1,2,3,4,5,6,7,8,9]}", "Input 'input': more than 8 values at nesting level 1 (row shape [8]).")]
    [InlineData("{\"other\":1}", "Input 'input' is missing.")]
    [InlineData("{\"input\":[1,2,3,4,5,6,7,\"x\"]}", "Input 'input': expected a number, found a string (row shape [8]).")]
    [InlineData("{\"input\":[1,2,3,4,5,6,7,1e999]}", "Input 'input': 1e999 is not a valid FP32 value.")]
    [InlineData("[1,2]", "A JSONL row must be a JSON object mapping input names to values.")]
    public void JsonlBadRowsAreReportedWithAClearMessage(string line, string expected)
    {
        var batch = new RowBatch([Vector8], 2);

        var (ok, error) = Parse(new JsonlRowParser([Vector8]), batch, line);

        Assert.False(ok);
        Assert.Equal(expected, error);
        Assert.Equal(0, batch.Count);
    }

    [Fact]
    public void JsonlMalformedJsonIsABadRowNotAnException()
    {
        var (ok, error) = Parse(new JsonlRowParser([Vector8]), new RowBatch([Vector8], 1), "{\"input\":[1,2");

        Assert.False(ok);
        Assert.StartsWith("Invalid JSON", error);
    }

    [Fact]
    public void CsvColumnsFillASingleInputInOrder()
    {
        var batch = new RowBatch([Vector8], 2);
        var parser = new CsvRowParser([Vector8], header: null);

        Assert.True(Parse(parser, batch, "1, 2,3,4,5,6,7,\"8\"").Ok);

        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8], ((float[])batch.Buffers[0])[..8]);
    }

    [Theory]
    [InlineData("1,2,3", "Expected 8 columns, found 3.")]
    [InlineData("1,2,3,4,5,6,7,abc", "Column 8: 'abc' is not a valid FP32 value.")]
    [InlineData("1,2,3,4,5,6,7,\"8", "Unterminated quoted field.")]
    public void CsvBadRowsAreReportedWithAClearMessage(string line, string expected)
    {
        var (ok, error) = Parse(new CsvRowParser([Vector8], null), new RowBatch([Vector8], 1), line);

        Assert.False(ok);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void CsvHeaderNamingEveryInputMapsColumnsByName()
    {
        RowInput age = new("age", "INT32", []);
        RowInput income = new("income", "FP32", [1]);
        var header = CsvRowParser.SplitHeader("id,income,\"age\"");
        var batch = new RowBatch([age, income], 2);

        Assert.True(Parse(new CsvRowParser([age, income], header), batch, "row-7,1234.5,42").Ok);

        Assert.Equal(42, ((int[])batch.Buffers[0])[0]);
        Assert.Equal(1234.5f, ((float[])batch.Buffers[1])[0]);
    }

    [Fact]
    public void CsvHeaderWithTheWrongColumnCountIsRejectedAtSubmission()
    {
        var ex = Assert.Throws<InputRejectedException>(() => new CsvRowParser([Vector8], ["a", "b"]));

        Assert.Equal("The CSV header has 2 columns but input 'input' takes 8 values per row.", ex.Message);
    }

    [Fact]
    public void CsvCannotFeedSeveralInputsWithoutAHeaderNamingThem()
    {
        var ex = Assert.Throws<InputRejectedException>(() => new CsvRowParser([new("a", "FP32", []), new("b", "FP32", [])], null));

        Assert.Contains("header naming every model input (a, b)", ex.Message);
    }

    [Theory]
    [InlineData("a,b,c", true)]
    [InlineData("1,2.5,-3e4", false)]
    [InlineData("1,2,x", true)]
    public void AFirstLineIsAHeaderWhenAFieldIsNotANumber(string line, bool header) =>
        Assert.Equal(header, CsvRowParser.LooksLikeHeader(line));
}
