using System.Text;
using System.Text.Json;
using MlPlatform.Inference.Protocol;
using static MlPlatform.UnitTests.Inference.TestModels;

namespace MlPlatform.UnitTests.Inference;

/// <summary>
/// The header pass passes over <c>data</c> arrays without tokenising them, so what reads data later (the FP32/FP64 scanner, the reader
/// walk, <c>ValidateData</c>) and the header reader that resumes after an array must refuse what is not JSON: a malformed body is never
/// accepted, and it is answered as malformed JSON with positions in the whole body.
/// </summary>
public sealed class JsonDataValidationTests
{
    [Theory]
    [InlineData("FP32", "[1,,2,3]")]
    [InlineData("FP32", "[1 2 3 4]")]
    [InlineData("FP32", "[1,2,3,4,]")]
    [InlineData("FP32", "[,1,2,3,4]")]
    [InlineData("FP32", "[01,2,3,4]")]
    [InlineData("FP32", "[1.,2,3,4]")]
    [InlineData("FP32", "[1.2.3,2,3,4]")]
    [InlineData("FP32", "[-,2,3,4]")]
    [InlineData("FP32", "[1e,2,3,4]")]
    [InlineData("FP32", "[1e+,2,3,4]")]
    [InlineData("FP32", "[+1,2,3,4]")]
    [InlineData("FP32", "[.5,2,3,4]")]
    [InlineData("FP32", "[NaN,2,3,4]")]
    [InlineData("FP32", "[1,2,3,4}")]
    [InlineData("FP32", "[1,2][3,4]")]
    [InlineData("FP32", "[[1,2,3,4]")]
    [InlineData("FP16", "[1,,2,3]")]
    [InlineData("INT8", "[1,2 3,4]")]
    [InlineData("UINT8", "[1,2,3,4,]")]
    [InlineData("UINT16", "[,1,2,3,4]")]
    [InlineData("UINT64", "[1,2,3,04]")]
    [InlineData("FP64", "[1,2,3,4,]")]
    [InlineData("FP64", "[1,2,3,-]")]
    [InlineData("FP64", "[1 ,2 3,4]")]
    [InlineData("INT32", "[1,,2,3,4]")]
    [InlineData("INT64", "[1,2,3,4,]")]
    [InlineData("BOOL", "[true false,true,true]")]
    [InlineData("BYTES", """["a",,"b","c","d"]""")]
    [InlineData("BYTES", """["a","b""c","d"]""")]
    public void MalformedDataIsMalformedJsonWhateverTheDatatype(string datatype, string data)
    {
        var body = $$"""{"inputs":[{"name":"a","shape":[4],"datatype":"{{datatype}}","data":{{data}}}],"id":"after"}""";
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(body));

        var error = Rejects(body);

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("Malformed JSON", error.Message);
    }

    [Fact]
    public void AnErrorInsideADataArrayIsReportedAtItsPositionInTheWholeBody()
    {
        const string body = """
            {"inputs":[{"name":"a","shape":[3],"datatype":"FP32",
              "data":[1,,2]}]}
            """;

        var error = Rejects(body);

        Assert.Equal($"Malformed JSON: {ReaderError(body)}", error.Message);
        Assert.Contains("LineNumber: 1 |", error.Message);
    }

    [Fact]
    public void ARepeatedDataKeyIsReadFromTheLastButTheFirstMustStillBeJson()
    {
        using var request = Read("""{"inputs":[{"name":"a","shape":[1],"datatype":"FP32","data":[7],"data":[8]}]}""");
        Assert.Equal([8f], request.Inputs[0].AsSpan<float>().ToArray());

        var error = Rejects("""{"inputs":[{"name":"a","shape":[1],"datatype":"FP32","data":[1,,2],"data":[1]}]}""");
        Assert.StartsWith("Malformed JSON", error.Message);
    }

    [Fact]
    public void AMalformedDataArrayIsAnsweredAsMalformedJsonEvenWhenTheRestWouldFailOtherwise()
    {
        // The shape alone would be refused as too large (413) before the data is read.
        var error = Rejects("""{"inputs":[{"name":"a","datatype":"FP32","data":[1,,2],"shape":[99999999]}]}""");

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("Malformed JSON", error.Message);
    }

    [Fact]
    public void BracketsAndEscapedQuotesInsideStringsDoNotEndTheDataArray()
    {
        using var request = Read("""{"inputs":[{"name":"a","shape":[3],"datatype":"BYTES","data":["]","[\"]","\\"]}],"id":"x"}""");

        Assert.Equal("x", request.Id);
        Assert.Equal(["]", "[\"]", "\\"], Strings(request.Inputs[0].Span));
    }

    [Fact]
    public void AnErrorAfterADataArrayIsReportedAtItsPositionInTheWholeBody()
    {
        const string body = """{"inputs":[{"name":"a","shape":[2],"datatype":"FP32","data":[1,2]} x]}""";

        var error = Rejects(body);

        Assert.Equal($"Malformed JSON: {ReaderError(body)}", error.Message);
        Assert.Contains("BytePositionInLine: 67", error.Message);
    }

    [Fact]
    public void MalformedDataOfATensorSentInBinaryIsStillRefused()
    {
        var header = Encoding.UTF8.GetBytes("""{"inputs":[{"name":"a","shape":[1],"datatype":"FP32","data":[1,,2],"parameters":{"binary_data_size":4}}]}""");
        var body = header.Concat(new byte[4]).ToArray();

        var error = Assert.Throws<InferenceProtocolException>(() => InferRequestReader.Read(body, header.Length, null, InferRequestLimits.None));

        Assert.StartsWith("Malformed JSON", error.Message);
    }

    [Fact]
    public void MalformedDataOnARequestedOutputIsRefused()
    {
        var error = Rejects("""{"inputs":[{"name":"a","shape":[1],"datatype":"FP32","data":[1]}],"outputs":[{"name":"y","data":[1,,2]}]}""");

        Assert.StartsWith("Malformed JSON", error.Message);
    }

    [Fact]
    public void AMalformedResponseDataArrayIsRefusedByTheClientCodec()
    {
        var body = """{"model_name":"m","model_version":"1","outputs":[{"name":"y","shape":[2],"datatype":"FP32","data":[1 2]}]}"""u8.ToArray();

        var error = Assert.Throws<InferenceProtocolException>(() => InferClientCodec.ReadResponse(body, null));

        Assert.StartsWith("Malformed", error.Message);
    }

    /// <summary>
    /// Differential check on thousands of mutated bodies: whatever System.Text.Json refuses is refused, and whatever is read holds
    /// exactly the numbers System.Text.Json reads.
    /// </summary>
    [Fact]
    public void MutatedBodiesAreAcceptedOnlyWhenTheyAreJsonAndThenReadAsSystemTextJsonReadsThem()
    {
        const string seed = """{"inputs":[{"name":"a","shape":[2,3],"datatype":"FP32","data":[[1.5,-2,3e2],[0.25,5,-6.125]]},{"data":["x]","[y"],"name":"b","shape":[2],"datatype":"BYTES"}],"id":"q"}""";
        const string alphabet = "[]{},:\" -.0123456789eE+\\x";
        var random = new Random(7);
        var (accepted, refused) = (0, 0);
        for (var n = 0; n < 20_000; n++)
        {
            var text = new StringBuilder(seed);
            for (var edits = random.Next(1, 3); edits > 0; edits--)
            {
                var at = random.Next(text.Length);
                switch (random.Next(3))
                {
                    case 0:
                        text.Remove(at, 1);
                        break;
                    case 1:
                        text.Insert(at, alphabet[random.Next(alphabet.Length)]);
                        break;
                    default:
                        text[at] = alphabet[random.Next(alphabet.Length)];
                        break;
                }
            }
            var body = text.ToString();
            JsonDocument? reference = null;
            try
            {
                reference = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
            }
            catch (JsonException)
            {
            }

            InferRequest? request = null;
            try
            {
                request = InferRequestReader.Read(Encoding.UTF8.GetBytes(body), null, null, InferRequestLimits.None);
            }
            catch (InferenceProtocolException)
            {
            }
            using (reference)
            using (request)
            {
                if (request is null)
                {
                    refused++;
                    continue;
                }
                accepted++;
                Assert.True(reference is not null, $"accepted a body System.Text.Json refuses: {body}");
                var first = request.Inputs.FirstOrDefault(i => i.Name == "a");
                if (first is not null && first.DataType == MlPlatform.Contracts.TensorDataType.FP32)
                {
                    var data = reference!.RootElement.GetProperty("inputs").EnumerateArray().First(i => i.GetProperty("name").GetString() == "a").GetProperty("data");
                    Assert.Equal(Flatten(data).Select(e => e.GetSingle()).ToArray(), first.AsSpan<float>().ToArray());
                }
            }
        }
        // Both outcomes must be well represented, or the check says little.
        Assert.True(accepted > 500 && refused > 500, $"{accepted} accepted, {refused} refused");
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement element) =>
        element.ValueKind == JsonValueKind.Array ? element.EnumerateArray().SelectMany(Flatten) : [element];

    private static string ReaderError(string body)
    {
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(body));
            while (reader.Read())
            {
            }
        }
        catch (JsonException ex)
        {
            return ex.Message;
        }
        throw new InvalidOperationException("The body is valid JSON.");
    }

    private static string[] Strings(ReadOnlySpan<byte> encoded)
    {
        var strings = new List<string>();
        while (!encoded.IsEmpty)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(encoded);
            strings.Add(Encoding.UTF8.GetString(encoded.Slice(4, length)));
            encoded = encoded[(4 + length)..];
        }
        return [.. strings];
    }
}
