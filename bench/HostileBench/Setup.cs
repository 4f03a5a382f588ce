using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace MlPlatform.Bench.Hostile;

/// <summary>What the run needs registered: a tiny model the valid clients call, and a 33 MB artifact the slow readers download.</summary>
internal sealed record Setup(string Model, int Version, string BigModel, int BigVersion)
{
    public static async Task<Setup> RunAsync(Uri gateway, string adminKey)
    {
        using var admin = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromMinutes(5) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var model = $"hostile-linear-{suffix}";
        var big = $"hostile-conv-{suffix}";
        var version = await RegisterAsync(admin, model, "linear-v1.onnx");
        var bigVersion = await RegisterAsync(admin, big, "conv.onnx");
        using (var alias = await admin.PutAsJsonAsync($"/v1/models/{model}/aliases/production", new { version, reason = "hostile bench" }))
        {
            alias.EnsureSuccessStatusCode();
        }
        for (var attempt = 0; attempt < 120; attempt++)
        {
            using var ready = await admin.GetAsync($"/v2/models/{model}/ready");
            if (ready.IsSuccessStatusCode)
            {
                return new Setup(model, version, big, bigVersion);
            }
            await Task.Delay(500);
        }
        throw new InvalidOperationException($"{model} did not become ready.");
    }

    private static async Task<int> RegisterAsync(HttpClient admin, string name, string file)
    {
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "models", file)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await admin.PostAsync($"/v1/models/{name}/versions", content);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Registering {file} answered {(int)response.StatusCode}: {body}");
        }
        return JsonDocument.Parse(body).RootElement.GetProperty("version").GetInt32();
    }
}
