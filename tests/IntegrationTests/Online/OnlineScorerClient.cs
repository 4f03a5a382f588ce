using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MlPlatform.Inference.Onnx;
using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.IntegrationTests.Online;

/// <summary>What the online scorer's tests do through the gateway: register models, move aliases, infer in JSON or binary.</summary>
internal static class OnlineScorerClient
{
    public static string ModelPath(string file) => Path.Combine(AppContext.BaseDirectory, "models", "online", file);

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    public static OnnxModel LoadLocally(string file) => OnnxModel.Load(ModelPath(file), new OnnxSessionOptions());

    public static async Task<(int Version, string Sha256)> RegisterAsync(HttpClient client, string name, string file)
    {
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(ModelPath(file)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await client.PostAsync($"/v1/models/{name}/versions", content).WaitAsync(PlatformFixture.RequestTimeout);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"register {name}: {(int)response.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        return (doc.RootElement.GetProperty("version").GetInt32(), doc.RootElement.GetProperty("sha256").GetString()!);
    }

    /// <param name="force">Move <c>production</c> past the contract check (a version whose signature production's clients cannot use).</param>
    public static async Task SetAliasAsync(HttpClient client, string name, string alias, int version, int? weight = null, bool force = false)
    {
        using var response = await client.PutAsJsonAsync($"/v1/models/{name}/aliases/{alias}",
            new { version, reason = "integration test", weight, force }).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.True(response.IsSuccessStatusCode, $"alias {alias} of {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task SetServingAsync(HttpClient client, string name, object settings)
    {
        using var response = await client.PutAsJsonAsync($"/v1/models/{name}/serving", settings).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.True(response.IsSuccessStatusCode, $"serving of {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task<(HttpStatusCode Status, JsonDocument Body, HttpResponseMessage Response)> PostJsonAsync(HttpClient client, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await client.PostAsync(path, content).WaitAsync(PlatformFixture.RequestTimeout);
        var text = await response.Content.ReadAsStringAsync();
        JsonDocument body;
        try
        {
            body = JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            throw new Xunit.Sdk.XunitException($"{path} answered {(int)response.StatusCode} with a body that is not JSON: {text}");
        }
        return (response.StatusCode, body, response);
    }

    public static async Task<(HttpStatusCode Status, JsonDocument Body)> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path).WaitAsync(PlatformFixture.RequestTimeout);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()));
    }

    /// <summary>Sends inputs through the V2 codec (JSON or binary) and decodes the response; throws on a non-200 with its body.</summary>
    public static async Task<(InferResponse Response, HttpResponseMessage Message)> InferAsync(HttpClient client, string path,
        IReadOnlyList<TensorBuffer> inputs, bool binaryInputs, bool binaryOutputs = false, string? id = null, IReadOnlyList<string>? outputs = null)
    {
        var writer = new ArrayBufferWriter<byte>();
        var jsonLength = InferClientCodec.WriteRequest(writer, id, inputs, binaryInputs, outputs, binaryOutputs);
        using var content = new ByteArrayContent(writer.WrittenSpan.ToArray());
        if (binaryInputs)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.Add("Inference-Header-Content-Length", jsonLength.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        var message = await client.PostAsync(path, content).WaitAsync(PlatformFixture.RequestTimeout);
        var bytes = await message.Content.ReadAsByteArrayAsync();
        if (message.StatusCode != HttpStatusCode.OK)
        {
            throw new Xunit.Sdk.XunitException($"{path} answered {(int)message.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        }
        int? headerLength = message.Content.Headers.TryGetValues("Inference-Header-Content-Length", out var values)
            || message.Headers.TryGetValues("Inference-Header-Content-Length", out values)
            ? int.Parse(values.First(), CultureInfo.InvariantCulture)
            : null;
        return (InferClientCodec.ReadResponse(bytes, headerLength), message);
    }

    public static TensorBuffer LinearInput(float seed, int rows = 1) =>
        TensorBuffer.FromValues<float>("input", TensorDataType.FP32, [rows, 4],
            Enumerable.Range(0, rows * 4).Select(i => seed + i * 0.25f).ToArray());

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var tolerance = relative * Math.Max(1e-3, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds, or fails after the fixture's request timeout.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + PlatformFixture.RequestTimeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Timed out waiting until {what}.");
            }
            await Task.Delay(100);
        }
    }
}
