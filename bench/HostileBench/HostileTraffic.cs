using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace MlPlatform.Bench.Hostile;

/// <summary>
/// The hostile reader: malformed bodies, unknown models and versions, bodies over the size limit, 30 MB bodies that must be parsed,
/// uploads trickled at 1 KB/s and downloads read at 1 KB/s. Each kind runs in its own loops; outcomes are counted, not judged.
/// </summary>
internal sealed class HostileTraffic(HttpClient client, Setup setup, Action<string, string> count)
{
    private static readonly byte[] Oversized = new byte[40 << 20];
    private static readonly byte[] Heavy = HeavyBody();
    private static readonly byte[] EmptyInputs = Encoding.UTF8.GetBytes("{\"inputs\":[]}");

    /// <summary>Every kind with its number of loops, in the order the reports list them.</summary>
    public static readonly (string Kind, int Loops)[] Kinds =
    [
        ("malformed JSON", 2), ("unknown model", 2), ("unknown version", 2), ("40 MB body (over the limit)", 1),
        ("30 MB FP64 JSON body", 2), ("upload trickled at 1 KB/s", 8), ("33 MB download read at 1 KB/s", 4),
    ];

    /// <summary>The loops of every kind, or of <paramref name="only"/> alone (the per-kind CPU profile).</summary>
    public IEnumerable<Task> Start(CancellationToken stop, string? only = null)
    {
        // Random.Shared: the loops run at once and Random is not thread-safe.
        var random = Random.Shared;
        foreach (var (kind, loops) in Kinds.Where(k => only is null || k.Kind == only))
        {
            for (var i = 0; i < loops; i++)
            {
                yield return Loop(kind, stop, kind switch
                {
                    "malformed JSON" => () => Post(client, $"/v2/models/{setup.Model}/infer", Json("{\"inputs\":[{\"name\":\"input\",\"datatype\":" + random.Next())),
                    "unknown model" => () => Post(client, $"/v2/models/nosuch-{Guid.NewGuid():N}/infer", Bytes(EmptyInputs)),
                    "unknown version" => () => Post(client, $"/v2/models/{setup.Model}/versions/{random.Next(1000, 100000)}/infer", Bytes(EmptyInputs)),
                    // The big bodies are built once and sent from the same array every time (ByteArrayContent copies nothing).
                    "40 MB body (over the limit)" => () => Post(client, $"/v2/models/{setup.Model}/infer", Bytes(Oversized)),
                    "30 MB FP64 JSON body" => () => Post(client, $"/v2/models/{setup.Model}/infer", Bytes(Heavy)),
                    "upload trickled at 1 KB/s" => () => Post(client, $"/v2/models/{setup.Model}/infer", new TrickleContent(200 * 1024, stop)),
                    _ => () => SlowReadAsync(client, $"/v1/models/{setup.BigModel}/versions/{setup.BigVersion}/artifact", stop),
                });
            }
        }
    }

    private async Task Loop(string kind, CancellationToken stop, Func<Task<string>> send)
    {
        while (!stop.IsCancellationRequested)
        {
            string outcome;
            try
            {
                outcome = await send();
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or OperationCanceledException)
            {
                outcome = ex is HttpRequestException { StatusCode: { } s } ? ((int)s).ToString() : "connection closed (" + ex.GetType().Name + ")";
            }
            if (!stop.IsCancellationRequested)
            {
                count(kind, outcome);
            }
        }
    }

    private static async Task<string> Post(HttpClient client, string path, HttpContent content)
    {
        using (var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            // The answers are small error documents: read and dropped without a copy into a new array.
            await response.Content.CopyToAsync(Stream.Null);
            return ((int)response.StatusCode).ToString();
        }
    }

    private static async Task<string> SlowReadAsync(HttpClient client, string path, CancellationToken stop)
    {
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, stop);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return ((int)response.StatusCode).ToString();
        }
        await using var body = await response.Content.ReadAsStreamAsync(stop);
        var buffer = new byte[1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, stop)) > 0)
        {
            total += read;
            await Task.Delay(1000, stop);
        }
        return total >= 33_000_000 ? "200, read to the end" : "ended early";
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static ByteArrayContent Bytes(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static byte[] HeavyBody()
    {
        const int elements = 7_500_000;
        var json = new StringBuilder(elements * 4 + 200);
        json.Append("{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[1,").Append(elements).Append("],\"data\":[");
        for (var i = 0; i < elements; i++)
        {
            json.Append(i == 0 ? "0.5" : ",0.5");
        }
        return Encoding.UTF8.GetBytes(json.Append("]}]}").ToString());
    }

    /// <summary>A JSON-typed body of a declared length sent at 1 KB per second.</summary>
    private sealed class TrickleContent(int length, CancellationToken stop) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[1024];
            Array.Fill(chunk, (byte)' ');
            for (var sent = 0; sent < length; sent += chunk.Length)
            {
                await stream.WriteAsync(chunk.AsMemory(0, Math.Min(chunk.Length, length - sent)), stop);
                await stream.FlushAsync(stop);
                await Task.Delay(1000, stop);
            }
        }

        protected override bool TryComputeLength(out long length1)
        {
            length1 = length;
            return true;
        }
    }
}
