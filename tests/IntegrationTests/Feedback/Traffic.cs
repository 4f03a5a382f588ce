using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>Real client traffic through the gateway while a test waits: linear-model requests, counted by the version that answered or the status.</summary>
internal sealed class Traffic : IAsyncDisposable
{
    private const string LinearRequest = """{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1.0,1.25,1.5,1.75]}]}""";
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;

    /// <summary>Counts by answer: "v{version}" for a 200, "{status}" otherwise.</summary>
    public ConcurrentDictionary<string, int> Answers { get; } = new();

    private Traffic(HttpClient client, string model, int clients)
    {
        _loops = Enumerable.Range(0, clients).Select(_ => Task.Run(() => LoopAsync(client, model))).ToArray();
    }

    public static Traffic Start(HttpClient client, string model, int clients = 2) => new(client, model, clients);

    public int Count(string answer) => Answers.GetValueOrDefault(answer);

    private async Task LoopAsync(HttpClient client, string model)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var content = new StringContent(LinearRequest, Encoding.UTF8, "application/json");
                using var response = await client.PostAsync($"/v2/models/{model}/infer", content, _stop.Token);
                var answer = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(_stop.Token), cancellationToken: _stop.Token);
                    answer = "v" + body.RootElement.GetProperty("model_version").GetString();
                }
                Answers.AddOrUpdate(answer, 1, (_, n) => n + 1);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpRequestException)
            {
                Answers.AddOrUpdate("exception", 1, (_, n) => n + 1);
            }
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_loops).WaitAsync(PlatformFixture.RequestTimeout);
        _stop.Dispose();
    }
}
