using System.Globalization;
using System.Text;
using System.Text.Json;
using static MlPlatform.UnitTests.Inference.TestModels;

namespace MlPlatform.UnitTests.Inference;

/// <summary>The FP32/FP64 fast path must read every number exactly as System.Text.Json's own parse does.</summary>
public sealed class JsonFloatDataTests
{
    private static readonly string[] EdgeCases =
    [
        "0", "-0", "0.0", "-0.0", "1", "-1", "0.1", "0.2", "0.3", "1e0", "1E0", "1e+0", "1e-0", "2.5e-3", "-2.5E+3", "123456789",
        "0.000001", "0.1234567890123456789", "1234567890123456789", "12345678901234567890", "9007199254740992", "9007199254740993",
        "9007199254740993.5", "1e22", "1e23", "1e-22", "1e-23", "4.9e-324", "2.2250738585072014e-308", "1.7976931348623157e308",
        "3.4028234e38", "3.4028236e38", "1.17549435e-38", "1.4e-45", "7e-46", "0.00000000000000000000000000001", "100000000000000000000000",
        "16777217", "16777216.5", "0.30000000000000004", "8.589973e9", "1.00000017881393432617187499", "1.000000178813934326171875",
        "0e999", "-0e-999", "5e-1", "5.0000000000000000000000000000001e-1",
    ];

    [Fact]
    public void Fp32ValuesEqualSystemTextJsonBitForBit()
    {
        var numbers = EdgeCases.Concat(RandomNumbers(20_000)).Where(n => float.IsFinite(float.Parse(n, CultureInfo.InvariantCulture))).ToArray();

        using var request = Read(Body("FP32", numbers));

        var actual = request.Inputs[0].AsSpan<float>().ToArray();
        Assert.Equal(numbers.Length, actual.Length);
        for (var i = 0; i < numbers.Length; i++)
        {
            var expected = ReferenceSingle(numbers[i]);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual[i]),
                $"'{numbers[i]}' read as {actual[i]:R}, System.Text.Json gives {expected:R}");
        }
    }

    [Fact]
    public void Fp64ValuesEqualSystemTextJsonBitForBit()
    {
        var numbers = EdgeCases.Concat(RandomNumbers(20_000)).Where(n => double.IsFinite(double.Parse(n, CultureInfo.InvariantCulture))).ToArray();

        using var request = Read(Body("FP64", numbers));

        var actual = request.Inputs[0].AsSpan<double>().ToArray();
        for (var i = 0; i < numbers.Length; i++)
        {
            var expected = ReferenceDouble(numbers[i]);
            Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual[i]),
                $"'{numbers[i]}' read as {actual[i]:R}, System.Text.Json gives {expected:R}");
        }
    }

    // Numbers that leave the scanner's exact path for its fallback parse (csFastFloat): 17-digit doubles (mantissa above 2^53),
    // more than 19 significant digits, exponents beyond 10^22, subnormals, float halfway points written out in full, and -0.
    private static readonly string[] FallbackCases =
    [
        "0.12345678901234568", "-0.98765432109876543", "9007199254740993", "1.0000000596046448", "1.00000005960464477539062500001",
        "1.0000000596046447753906249999", "16777217.0000000000000000001", "16777216.99999999999999999999", "1e23", "-1e-23", "1.5e-30",
        "1.4e-45", "7.006492321624085e-46", "7.006492321624086e-46", "1e-45", "1.17549421e-38", "1.1754942107e-38", "4.9e-324",
        "2.4703282292062327e-324", "2.4703282292062328e-324", "2.2250738585072011e-308", "1.7976931348623157e308", "3.4028235e38",
        "3.40282356779733661637539395458142568447e38", "-0.000000000000000000000000000000000000000000000000000000001e-300",
        "-0e-50", "0.000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
        "1" + new string('0', 30) + "." + new string('0', 30) + "1", "0." + new string('3', 800), "123456789012345678901234567890e-20",
    ];

    [Fact]
    public void NumbersOutsideTheExactPathEqualSystemTextJsonBitForBit()
    {
        var random = new Random(17);
        var doubles = Enumerable.Range(0, 5_000).Select(_ => (random.NextDouble() * Math.Pow(10, random.Next(-30, 31))).ToString("R", CultureInfo.InvariantCulture));
        var numbers = FallbackCases.Concat(doubles).ToArray();
        var singles = numbers.Where(n => float.IsFinite(float.Parse(n, CultureInfo.InvariantCulture))).ToArray();

        using (var request = Read(Body("FP32", singles)))
        {
            var actual = request.Inputs[0].AsSpan<float>().ToArray();
            for (var i = 0; i < singles.Length; i++)
            {
                var expected = ReferenceSingle(singles[i]);
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"'{singles[i]}' read as {actual[i]:R}, System.Text.Json gives {expected:R}");
            }
        }
        using (var request = Read(Body("FP64", numbers)))
        {
            var actual = request.Inputs[0].AsSpan<double>().ToArray();
            for (var i = 0; i < numbers.Length; i++)
            {
                var expected = ReferenceDouble(numbers[i]);
                Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual[i]),
                    $"'{numbers[i]}' read as {actual[i]:R}, System.Text.Json gives {expected:R}");
            }
        }
    }

    [Fact]
    public void NegativeZeroKeepsItsSignOnEveryPath()
    {
        using var request = Read(Body("FP32", ["-0", "-0.0", "-0e5", "-0.00000000000000000000000000000", "-1e-60"]));

        Assert.All(request.Inputs[0].AsSpan<float>().ToArray(), v => Assert.True(float.IsNegative(v) && v == 0, $"{v:R} is not -0"));
    }

    [Theory]
    [InlineData("FP32", "3.4028236e38")]
    [InlineData("FP32", "-340282366920938463463374607431768211456")]
    [InlineData("FP32", "1e39")]
    [InlineData("FP64", "1.7976931348623159e308")]
    [InlineData("FP64", "-17976931348623159000000000000000000000000000000000000000000000000000000e300")]
    public void ANumberThatOverflowsItsTypeOnTheFallbackPathIsRejected(string datatype, string number)
    {
        var error = Rejects($$"""{"inputs":[{"name":"x","shape":[3],"datatype":"{{datatype}}","data":[0.5,{{number}},1]}]}""");

        Assert.Contains($"element 1 is not a valid {datatype} value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NestedWhitespaceRichDataIsReadRowMajor()
    {
        using var request = Read("""
            {"inputs":[{"name":"x","shape":[2,2,2],"datatype":"FP32","data": [ [ [1, 2.5] ,[ -3e1,4]],[[5 ,	6],
               [7,8E-1] ] ] }]}
            """);

        Assert.Equal([1f, 2.5f, -30f, 4f, 5f, 6f, 7f, 0.8f], request.Inputs[0].AsSpan<float>().ToArray());
    }

    [Theory]
    [InlineData("""[1,2,"3",4]""", "element 2 is not a valid FP32 value")]
    [InlineData("""[1,2,null,4]""", "element 2 is not a valid FP32 value")]
    [InlineData("""[1,2,true,4]""", "element 2 is not a valid FP32 value")]
    [InlineData("""[1,2,3e39,4]""", "element 2 is not a valid FP32 value")]
    [InlineData("""[1,2,3]""", "needs 4 elements but 'data' has 3")]
    [InlineData("""[1,2,3,4,5]""", "needs 4 elements but 'data' has more")]
    [InlineData("""[[1,2],[3,4],[5]]""", "'data' is nested deeper than shape [4]")]
    public void AFloatTensorWithANonNumberOrTheWrongCountIsRejectedByName(string data, string message)
    {
        var error = Rejects($$"""{"inputs":[{"name":"x","shape":[4],"datatype":"FP32","data":{{data}}}]}""");

        Assert.Contains("'x'", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnFp64ValueBeyondDoubleRangeIsRejected()
    {
        var error = Rejects("""{"inputs":[{"name":"x","shape":[2],"datatype":"FP64","data":[1,1e309]}]}""");

        Assert.Contains("element 1 is not a valid FP64 value", error.Message, StringComparison.Ordinal);
    }

    private static string Body(string datatype, string[] numbers) =>
        $$"""{"inputs":[{"name":"x","shape":[{{numbers.Length}}],"datatype":"{{datatype}}","data":[{{string.Join(',', numbers)}}]}]}""";

    // What clients send: shortest round-trip floats and doubles, fixed and exponent forms, short and long mantissas.
    private static IEnumerable<string> RandomNumbers(int count)
    {
        var random = new Random(42);
        for (var i = 0; i < count; i++)
        {
            // Within FP32's range: the reference parse of an out-of-range value is infinity, which the reader refuses (tested below).
            var magnitude = Math.Pow(10, random.Next(-36, 37));
            var value = (random.NextDouble() - 0.5) * magnitude;
            yield return (i % 6) switch
            {
                0 => ((float)value).ToString("R", CultureInfo.InvariantCulture),
                1 => value.ToString("R", CultureInfo.InvariantCulture),
                2 => value.ToString("G17", CultureInfo.InvariantCulture),
                3 => ((float)value).ToString("E8", CultureInfo.InvariantCulture),
                4 => value.ToString("F" + random.Next(0, 12).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
                _ => random.Next(-1_000_000, 1_000_000).ToString(CultureInfo.InvariantCulture) + "." + random.Next(0, 1000).ToString("D3", CultureInfo.InvariantCulture),
            };
        }
    }

    private static float ReferenceSingle(string number)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(number));
        reader.Read();
        Assert.True(reader.TryGetSingle(out var value), number);
        return value;
    }

    private static double ReferenceDouble(string number)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(number));
        reader.Read();
        Assert.True(reader.TryGetDouble(out var value), number);
        return value;
    }
}
