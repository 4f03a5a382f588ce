using System.Text.Json;
using MlPlatform.IntegrationTests.Online;
using static MlPlatform.IntegrationTests.Quality.QualityClient;

namespace MlPlatform.IntegrationTests.Quality;

/// <summary>The payload log: sampled requests recorded with their ids, inputs and outputs, drained by the registry, read back by operators.</summary>
[Collection(PlatformCollection.Name)]
public sealed class PayloadLogTests(PlatformFixture platform)
{
    [Fact]
    public async Task EveryRequestAtRateOneIsLoggedWithItsIdInputsAndOutputsAndARequestWithoutIdGetsOne()
    {
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var name = await ServeIrisAsync(admin, "payloads", new { enabled = true, sampleRate = 1.0 });

        // Every tenth request comes without an id: the scorer gives it one and returns it.
        var sent = await SendAsync(reader, $"/v2/models/{name}/infer", 1000, 8, i => i % 10 == 0 ? null : $"req-{i}");
        Assert.All(sent.Where(s => s.Sent is not null), s => Assert.Equal(s.Sent, s.Returned));
        Assert.All(sent.Where(s => s.Sent is null), s => Assert.False(string.IsNullOrEmpty(s.Returned)));
        Assert.Equal(1000, sent.Select(s => s.Returned).Distinct().Count());

        var records = await ReadPayloadsAsync(operatorClient, name, 1, 1000);
        Assert.Equal(1000, records.Count);
        var byId = records.ToDictionary(r => r.GetProperty("id").GetString()!);
        for (var i = 0; i < sent.Length; i++)
        {
            var record = byId[sent[i].Returned!];
            Assert.Equal(name, record.GetProperty("model").GetString());
            Assert.Equal(1, record.GetProperty("version").GetInt32());
            Assert.Equal("production", record.GetProperty("route").GetString());
            Assert.Equal("success", record.GetProperty("outcome").GetString());
            Assert.Equal(200, record.GetProperty("status").GetInt32());
            Assert.True(record.GetProperty("latencyMs").GetDouble() > 0);
            Assert.False(record.GetProperty("truncated").GetBoolean());
            var input = record.GetProperty("inputs")[0];
            Assert.Equal("input", input.GetProperty("name").GetString());
            Assert.Equal(Flower(i), Floats(input.GetProperty("data")));
            var outputs = record.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
            var scores = Floats(outputs["Score.output"].GetProperty("data"));
            Assert.Equal(3, scores.Length);
            Assert.InRange(scores.Sum(), 0.99f, 1.01f);
        }
        // Oldest first, within the range asked for.
        var times = records.Select(r => r.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.True(times.Zip(times.Skip(1)).All(p => p.First <= p.Second || p.First - p.Second < TimeSpan.FromSeconds(2)));
        var limited = await ReadPayloadsAsync(operatorClient, name, 1, 10, "limit=10");
        Assert.Equal(10, limited.Count);
    }

    [Fact]
    public async Task ASampleRateOfATenthLogsAboutATenthOfTheRequests()
    {
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var name = await ServeIrisAsync(admin, "sampled", new { enabled = true, sampleRate = 0.1 });

        var sent = await SendAsync(reader, $"/v2/models/{name}/infer", 1000, 8, i => $"s-{i}");
        Assert.All(sent, s => Assert.Equal(s.Sent, s.Returned));

        var records = await ReadPayloadsAsync(operatorClient, name, 1, 70);
        // The drainer files what the stream holds each tick: wait until two reads agree before counting.
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            var again = await ReadPayloadsAsync(operatorClient, name, 1, 70);
            var stable = again.Count == records.Count;
            records = again;
            await Task.Delay(1000);
            return stable;
        }, "the payload log stops growing");
        Assert.InRange(records.Count, 70, 130);
        Assert.All(records, r => Assert.StartsWith("s-", r.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task OnlyOperatorsReadPayloadsAndBadQueriesOrSettingsAreRefusedByName()
    {
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var name = await ServeIrisAsync(admin, "payload-auth", new { enabled = false });

        using (var refused = await reader.GetAsync($"/v1/models/{name}/versions/1/payloads").WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        using (var bad = await operatorClient.GetAsync($"/v1/models/{name}/versions/1/payloads?from=yesterday").WaitAsync(PlatformFixture.RequestTimeout))
        {
            await RegistryTestSupport.AssertProblemAsync(bad, HttpStatusCode.BadRequest, "'from'");
        }
        using (var missing = await operatorClient.GetAsync($"/v1/models/{name}/versions/7/payloads").WaitAsync(PlatformFixture.RequestTimeout))
        {
            await RegistryTestSupport.AssertProblemAsync(missing, HttpStatusCode.NotFound, "no version 7");
        }
        using (var off = await operatorClient.GetAsync($"/v1/models/{name}/versions/1/payloads").WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.OK, off.StatusCode);
            Assert.Equal("", await off.Content.ReadAsStringAsync());
        }

        using var badRate = await admin.PutAsJsonAsync($"/v1/models/{name}/serving",
            new { payloadLog = new { enabled = true, sampleRate = 1.5, maxBytesPerRecord = 10 } }).WaitAsync(PlatformFixture.RequestTimeout);
        await RegistryTestSupport.AssertProblemAsync(badRate, HttpStatusCode.BadRequest, "payloadLog.sampleRate");
        using var json = JsonDocument.Parse(await badRate.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty("payloadLog.maxBytesPerRecord", out _));
    }
}
