using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MlPlatform.IntegrationTests.Online;
using MlPlatform.IntegrationTests.Quality;
using OpenQA.Selenium;
using Xunit.Abstractions;
using static MlPlatform.IntegrationTests.Quality.QualityClient;

namespace MlPlatform.IntegrationTests.WebConsole;

/// <summary>
/// The console's quality, drift and shadow panels fed by the quality loop's public reports, and the reasons and confirmations of its
/// write actions (empty reason refused next to the field, a double click sending once, the reason recorded by the registry).
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ConsolePanelsAndReasonsTests(PlatformFixture platform, BrowserFixture browser, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private const int Reference = 500;

    private ConsoleSession Browse() => new(browser, platform.App.GetEndpoint("gateway", "http"));

    [Fact]
    public async Task TheQualityPanelShowsAccuracyAgainstTheBaselineAfterFeedbackAndTheDriftPanelChartsTheShiftedFeatures()
    {
        var clock = Stopwatch.StartNew();
        using var admin = platform.CreateGatewayClient();
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        // v1 (iris) is production, v2 answers with two classes swapped; both logged at a sample rate of 1 with classification settings.
        var name = await QualityTests.ServeIrisWithSwappedVersionAsync(admin);

        // v1's first 500 requests spread evenly over each feature's range (its drift reference), then 90 real flowers, labelled;
        // 30 flowers asked of v2 by number, labelled too.
        await SendAsync(reader, $"/v2/models/{name}/infer", Reference, 8, i => $"ref-{i}", Spread);
        await ReadPayloadsAsync(operatorClient, name, 1, Reference);
        await Task.WhenAll(
            SendAsync(reader, $"/v2/models/{name}/infer", 90, 6, i => $"live-{i}", QualityTests.IrisFlower),
            SendAsync(reader, $"/v2/models/{name}/versions/2/infer", 30, 6, i => $"v2-{i}", QualityTests.IrisFlower));
        await ReadPayloadsAsync(operatorClient, name, 1, Reference + 90);
        await ReadPayloadsAsync(operatorClient, name, 2, 30);
        var labels = Enumerable.Range(0, 90).Select(i => $$"""{"id":"live-{{i}}","label":"{{QualityTests.Species[i % 3]}}"}""")
            .Concat(Enumerable.Range(0, 30).Select(i => $$"""{"id":"v2-{{i}}","label":"{{QualityTests.Species[i % 3]}}"}"""));
        using (var feedback = await operatorClient.PostAsync($"/v1/models/{name}/feedback",
            new StringContent(string.Join('\n', labels), Encoding.UTF8, "application/x-ndjson")).WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.OK, feedback.StatusCode);
        }
        var v2Quality = await QualityTests.GetQualityAsync(reader, name, 2);
        var v2Accuracy = v2Quality.GetProperty("figures").GetProperty("accuracy").GetDouble();
        var baselineAccuracy = v2Quality.GetProperty("baseline").GetProperty("accuracy").GetDouble();
        Assert.True(v2Accuracy < baselineAccuracy, v2Quality.ToString());

        var console = Browse();
        console.SignIn(PlatformFixture.ReaderApiKey, "reader");

        // v2: its accuracy beside production's (the baseline), in words and in the table; no drift verdict while its reference fills.
        console.Go($"#/models/{name}/versions/2");
        var quality = console.WaitForText("#quality-panel", "accuracy");
        Assert.Contains(Invariant($"accuracy {100 * v2Accuracy:0.0} % over 30 labelled requests"), quality);
        Assert.Contains(Invariant($"baseline v1: accuracy {100 * baselineAccuracy:0.0} %"), quality);
        Assert.Contains("(worse)", console.Find("#quality-panel .quality-table").Text);
        Assert.Contains("No verdict yet: the reference has 30 logged requests", console.WaitForText("#drift-panel", "No verdict"));
        Assert.Contains("Not a shadow version", console.Find("#shadow-panel").Text);

        // v1: real flowers against an even spread drift; the chart draws a bar per feature, the table says which shifted.
        console.Go($"#/models/{name}/versions/1");
        browser.Until(_ => console.Script<long>("const c = window.Chart && Chart.getChart('drift-chart'); return c ? c.data.labels.length : 0") == 4, "the drift chart's four features");
        var drift = console.Find("#drift-panel .drift-summary");
        Assert.True(double.Parse(drift.GetAttribute("data-max-psi")!, System.Globalization.CultureInfo.InvariantCulture) > 0.2, drift.Text);
        Assert.Contains("(shifted)", drift.Text);
        Assert.Contains("shifted", console.Find("#drift-panel .drift-table").Text);
        Assert.Contains("no baseline", console.WaitForText("#quality-panel", "accuracy"));
        console.Screenshot("quality-panels", height: 2000);

        // A narrow window: nothing wider than the viewport (tables scroll inside themselves, panels stack).
        console.Driver.Manage().Window.Size = new System.Drawing.Size(420, 800);
        try
        {
            Assert.True(console.Script<bool>("return document.documentElement.scrollWidth <= window.innerWidth"),
                $"page {console.Script<long>("return document.documentElement.scrollWidth")} px wide in a {console.Script<long>("return window.innerWidth")} px window");
        }
        finally
        {
            console.Driver.Manage().Window.Size = new System.Drawing.Size(1280, 800);
        }

        // v2 as the shadow of every production request (once the scorer has the alias): its page compares its answers with production's.
        await OnlineScorerClient.SetAliasAsync(admin, name, "shadow", 2, weight: 100);
        await OnlineScorerClient.EventuallyAsync(async () =>
        {
            await SendAsync(reader, $"/v2/models/{name}/infer", 6, 3, i => $"shadow-{Guid.NewGuid():N}", QualityTests.IrisFlower);
            var (status, report) = await OnlineScorerClient.GetJsonAsync(reader, $"/v1/models/{name}/versions/2/shadow?window=1h");
            using (report)
            {
                return status == HttpStatusCode.OK && report.RootElement.GetProperty("compared").GetInt32() >= 6;
            }
        }, "copies of production's requests compared with v2's answers");
        console.Go($"#/models/{name}/versions/2");
        var shadow = console.WaitForText("#shadow-panel", "agreement");
        Assert.Contains("v2 against production v1 over ", shadow);
        // Setosa and versicolor swapped: the shadow disagrees on some flowers, and the panel says so in numbers.
        var agreement = double.Parse(console.Find("#shadow-panel .shadow-summary").GetAttribute("data-agreement")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(agreement, 0, 0.99);
        Assert.Contains("p99 latency", console.Find("#shadow-panel .shadow-table").Text);

        // The model page sums the aliased versions up; a model without the payload log says what to turn on.
        console.Go($"#/models/{name}");
        Assert.Contains("production", console.WaitForText("#model-quality-table", "shifted"));
        Assert.Contains("shadow → v2 (copy of 100 % of production)", console.Find("#aliases").Text);
        Assert.Contains("agreement", console.Find("#model-quality-table").Text);
        var plain = OnlineScorerClient.UniqueName("console-noqual");
        await OnlineScorerClient.RegisterAsync(admin, plain, "linear-v1.onnx");
        console.Go($"#/models/{plain}/versions/1");
        Assert.Contains("payload log is off", console.WaitForText("#quality-panel", "payload log"));
        Assert.Contains("\"payloadLog\"", console.Find("#drift-panel").Text);
        output.WriteLine($"quality and drift panels: {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task EveryWriteAsksForAReasonAndConfirmationAndADoubleClickArchivesOnceWithTheReasonRecorded()
    {
        var clock = Stopwatch.StartNew();
        using var admin = platform.CreateGatewayClient();
        var name = OnlineScorerClient.UniqueName("console-reasons");
        await OnlineScorerClient.RegisterAsync(admin, name, "linear-v1.onnx");
        await OnlineScorerClient.RegisterAsync(admin, name, "linear-v2.onnx");
        await OnlineScorerClient.SetAliasAsync(admin, name, "production", 1);
        var console = Browse();
        console.SignIn(PlatformFixture.AdminApiKey, "admin");
        console.Go($"#/models/{name}");
        // Every DELETE the page sends, counted where it leaves the page.
        console.Script<object?>("window.deletes = 0; const send = window.fetch; window.fetch = (url, init) => { if (init && init.method === 'DELETE') window.deletes++; return send(url, init); }; return null;");

        // An empty reason: the message next to the field, no confirmation, nothing sent.
        console.Fill("archive-version", "2");
        console.Fill("archive-reason", "  ");
        console.Find("#archive button[type=submit]").Click();
        Assert.StartsWith("'reason' is required", console.WaitForText("#archive-reason-error", "'reason'"));
        Assert.Equal("true", console.Find("#archive-reason").GetAttribute("aria-invalid"));
        Assert.Empty(console.Driver.FindElements(By.CssSelector("#archive-confirm")));
        console.Find("#start-rollout button[type=submit]").Click();
        Assert.StartsWith("'reason' is required", console.WaitForText("#start-rollout-reason-error", "'reason'"));

        // With a reason: the confirmation names the action and the reason; a double click on Confirm archives once.
        console.Fill("archive-reason", "superseded by the retrained model");
        console.Find("#archive button[type=submit]").Click();
        var confirmation = console.WaitForText("#archive .confirm", "Archive version 2");
        Assert.Contains("Reason recorded: superseded by the retrained model", confirmation);
        new OpenQA.Selenium.Interactions.Actions(console.Driver).DoubleClick(console.Find("#archive-confirm")).Perform();
        Assert.Contains("superseded by the retrained model", console.WaitForText("#versions", "archived"));
        Assert.Equal(1L, console.Script<long>("return window.deletes"));
        var (status, version) = await OnlineScorerClient.GetJsonAsync(admin, $"/v1/models/{name}/versions/2");
        using (version)
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.True(version.RootElement.GetProperty("archived").GetBoolean());
            Assert.Equal("superseded by the retrained model", version.RootElement.GetProperty("archiveReason").GetString());
            Assert.Equal("admin", version.RootElement.GetProperty("archivedBy").GetString());
        }

        // Archiving again changes nothing: the first time, caller and reason stay.
        using (var again = await admin.DeleteAsync($"/v1/models/{name}/versions/2?reason=another").WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal("superseded by the retrained model", JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("archiveReason").GetString());
        }
        using (var tooLong = await admin.DeleteAsync($"/v1/models/{name}/versions/1?reason={new string('x', 1001)}").WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
            Assert.Contains("'reason' has at most 1000 characters", await tooLong.Content.ReadAsStringAsync());
        }

        // The gates of an analysis (issue 18's quality gates), read whatever their shape, by the same code the rollouts page draws them with.
        var gates = console.AsyncScript<string>("""
            const done = arguments[arguments.length - 1];
            import('./js/pages/rollouts.js').then(m => done(JSON.stringify([
              m.gateEntries({ gates: [{ name: 'accuracy', result: 'fail', value: 0.81, threshold: 0.9 }, { gate: 'drift', passed: true }] }),
              m.gateEntries({ gates: { shadow: { status: 'inconclusive', reason: 'too few requests' } } }),
              m.gateEntries({ decision: 'wait' })])), e => done(String(e)));
            """);
        using var entries = JsonDocument.Parse(gates);
        Assert.Equal(["accuracy: failed 0.81 against 0.9", "drift: passed"], entries.RootElement[0].EnumerateArray().Select(g => g.GetProperty("text").GetString()));
        Assert.Equal("shadow: inconclusive (too few requests)", entries.RootElement[1][0].GetProperty("text").GetString());
        Assert.Equal(0, entries.RootElement[2].GetArrayLength());
        output.WriteLine($"reasons and confirmation: {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Flower <paramref name="i"/> of an even spread over each feature's range (a low-discrepancy sequence): a drift reference real flowers differ from.</summary>
    private static float[] Spread(int i)
    {
        static float Frac(double x) => (float)(x - Math.Floor(x));
        return [4.5f + Frac(i * 0.6180339887) * 2f, 2.5f + Frac(i * 0.4142135623) * 1.2f, 1.2f + Frac(i * 0.7320508075) * 5f,
            0.1f + Frac(i * 0.2360679774) * 2.3f];
    }
}
