using System.Globalization;
using System.Text.Json;
using MlPlatform.Inference.Tensors;
using MlPlatform.IntegrationTests.Online;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>What the quality loop's tests do through the gateway: serve iris with a payload log, send traffic, read the log back.</summary>
internal static class QualityClient
{
    /// <summary>Registers iris under a new name as production with <paramref name="payloadLog"/> in its serving settings; returns the name.</summary>
    public static async Task<string> ServeIrisAsync(HttpClient admin, string prefix, object payloadLog)
    {
        var name = OnlineScorerClient.UniqueName(prefix);
        var version = await RegistryTestSupport.RegisterAsync(admin, name, await File.ReadAllBytesAsync(RegistryTestSupport.IrisModel));
        await OnlineScorerClient.SetServingAsync(admin, name, new { payloadLog });
        await OnlineScorerClient.SetAliasAsync(admin, name, "production", version);
        return name;
    }

    /// <summary>An iris flower for request <paramref name="i"/>: values that differ per request, so a record can be matched to its request.</summary>
    public static float[] Flower(int i) => [5.0f + i % 30 * 0.1f, 3.0f + i % 7 * 0.1f, 1.5f + i % 40 * 0.1f, 0.2f + i % 20 * 0.1f];

    /// <summary>Sends <paramref name="count"/> requests to <paramref name="path"/>, <paramref name="parallelism"/> at a time; returns each request's sent id and returned id.</summary>
    public static async Task<(string? Sent, string? Returned)[]> SendAsync(HttpClient client, string path, int count, int parallelism,
        Func<int, string?> idOf, Func<int, float[]>? flowerOf = null)
    {
        var results = new (string? Sent, string? Returned)[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, _) =>
        {
            using var input = TensorBuffer.FromValues<float>("input", TensorDataType.FP32, [1, 4], (flowerOf ?? Flower)(i));
            var id = idOf(i);
            var (response, message) = await OnlineScorerClient.InferAsync(client, path, [input], binaryInputs: false, id: id);
            using (response)
            using (message)
            {
                results[i] = (id, response.Id);
            }
        });
        return results;
    }

    /// <summary>The version's payload log as parsed JSON lines (operator key), waiting until it holds at least <paramref name="atLeast"/> records.</summary>
    public static async Task<List<JsonElement>> ReadPayloadsAsync(HttpClient client, string name, int version, int atLeast, string query = "from=1h&limit=100000")
    {
        var records = new List<JsonElement>();
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            using var response = await client.GetAsync($"/v1/models/{name}/versions/{version}/payloads?{query}").WaitAsync(PlatformFixture.RequestTimeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
            var text = await response.Content.ReadAsStringAsync();
            records = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
            return records.Count >= atLeast;
        }, $"the payload log of {name} v{version} holds {atLeast} records");
        return records;
    }

    public static float[] Floats(JsonElement tensorData) => tensorData.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
