using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MlPlatform.IntegrationTests.Batch;
using MlPlatform.IntegrationTests.Feedback;
using MlPlatform.IntegrationTests.Online;
using OpenQA.Selenium;

namespace MlPlatform.IntegrationTests.WebConsole;

/// <summary>
/// The web console at /ui in a real headless Chromium, against the shared platform: sign-in and roles, alias changes and the timeline,
/// the server's errors next to the fields, live charts, batch progress, rollouts, and where the key must never appear.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ConsoleBrowserTests(PlatformFixture platform, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private ConsoleSession Browse() => new(browser, platform.App.GetEndpoint("gateway", "http"));

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    [Fact]
    public async Task AReaderSeesTheModelWithoutActionsAndTheApiRefusesTheRequestItCrafts()
    {
        using var admin = platform.CreateGatewayClient();
        var name = Unique("console-reader");
        await OnlineScorerClient.RegisterAsync(admin, name, "linear-v1.onnx");
        var console = Browse();

        console.SignIn(PlatformFixture.ReaderApiKey, "reader");
        console.Go($"#/models/{name}");

        Assert.Contains("reader (reader)", console.Find("#me").Text);
        Assert.Contains("needs an admin key", console.Find("#no-actions").Text);
        Assert.Empty(console.Driver.FindElements(By.CssSelector("form.action")));
        Assert.Contains("v1", console.Find("#versions").Text);
        // The session cookie and the session's own CSRF token, used by hand from the page: the gateway still judges the role.
        var status = console.AsyncScript<long>("""
            const done = arguments[arguments.length - 1];
            fetch('/v1/me').then(r => r.json())
              .then(me => fetch(`/v1/models/${arguments[0]}/aliases/production`, {
                method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrfToken },
                body: JSON.stringify({ version: 1, reason: 'crafted by a reader' }) }))
              .then(r => done(r.status), () => done(-1));
            """, name);
        Assert.Equal(403, status);
        using var aliases = await admin.GetAsync($"/v1/models/{name}").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.DoesNotContain("production", await aliases.Content.ReadAsStringAsync());
        console.Screenshot("reader-model-page");
    }

    [Fact]
    public async Task AnAdminSetsProductionWithAReasonSeesTheTimelineUpdateAndRollsBack()
    {
        using var admin = platform.CreateGatewayClient();
        var name = Unique("console-model");
        await OnlineScorerClient.RegisterAsync(admin, name, "linear-v1.onnx");
        await OnlineScorerClient.RegisterAsync(admin, name, "linear-v2.onnx");
        var console = Browse();
        console.SignIn(PlatformFixture.AdminApiKey, "admin");
        console.Go($"#/models/{name}");
        var versions = console.WaitForText("#versions", "v2");
        Assert.Contains("admin", versions);

        SetAlias(console, "production", "1", "first release");
        console.WaitForText("#alias-history", "first release");
        SetAlias(console, "production", "2", "second version reviewed");
        console.WaitForText("#alias-history", "second version reviewed");
        console.Fill("rollback-reason", "second version misbehaves");
        console.SubmitAndConfirm("rollback");
        var history = console.WaitForText("#alias-history", "second version misbehaves");

        Assert.Contains("rollback", history);
        using (var production = await admin.GetAsync($"/v1/models/{name}/aliases/production").WaitAsync(PlatformFixture.RequestTimeout))
        {
            Assert.Equal(1, JsonDocument.Parse(await production.Content.ReadAsStringAsync()).RootElement.GetProperty("version").GetInt32());
        }
        // Three changes of production on the chart: set, set, rollback (plus the "now" point that extends the line).
        Assert.True(console.ChartHas("alias-timeline-chart", "p.change && p.change.kind === 'rollback'"), "the rollback is a point of the timeline chart");
        Assert.Equal(4L, console.Script<long>("return Chart.getChart('alias-timeline-chart').data.datasets.find(d => d.label === 'production').data.length"));

        // A version registered through the API appears on the next visit.
        await OnlineScorerClient.RegisterAsync(admin, name, "linear-v1.onnx");
        console.Go("#/models");
        console.Go($"#/models/{name}");
        console.WaitForText("#versions", "v3");
        console.Screenshot("model-page", height: 1700);
    }

    [Fact]
    public async Task FormErrorsShowTheServersMessageNextToTheFieldAndADoubleClickSendsOnce()
    {
        using var admin = platform.CreateGatewayClient();
        var name = Unique("console-errors");
        await OnlineScorerClient.RegisterAsync(admin, name, "linear-v1.onnx");
        var console = Browse();
        console.SignIn(PlatformFixture.AdminApiKey, "admin");
        console.Go($"#/models/{name}");

        SetAlias(console, "production", "1", "");
        Assert.StartsWith("'reason' is required", console.WaitForText("#set-alias-reason-error", "'reason' is required"));

        SetAlias(console, "canary", "1", "try it", weight: "150");
        Assert.StartsWith("'weight' is a share of unversioned traffic between 0 and 100", console.WaitForText("#set-alias-weight-error", "'weight'"));
        Assert.Equal("true", console.Find("#set-alias-weight").GetAttribute("aria-invalid"));

        SetAlias(console, "production", "99", "does not exist");
        Assert.Equal($"Model '{name}' has no version 99.", console.WaitForText("#set-alias-version-error", "version 99"));

        console.Fill("serving-instanceCount", "100");
        console.SubmitAndConfirm("serving-form");
        Assert.Equal("instanceCount must be between 1 and 64.", console.WaitForText("#serving-instanceCount-error", "instanceCount"));
        console.Screenshot("form-errors", height: 1500);

        SetAlias(console, "production", "1", "sent once", doubleClick: true);
        console.WaitForText("#alias-history", "sent once");
        await Task.Delay(1000);
        using var history = await admin.GetAsync($"/v1/models/{name}/aliases/production/history").WaitAsync(PlatformFixture.RequestTimeout);
        var changes = JsonDocument.Parse(await history.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
        Assert.Single(changes);
        Assert.Equal("sent once", changes[0].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task AVersionsChartsFillWhileTrafficRunsAndAnotherVersionOverlaysThem()
    {
        using var admin = platform.CreateGatewayClient();
        var name = Unique("console-chart");
        await OnlineScorerClient.RegisterAsync(admin, name, "linear-v1.onnx");
        await OnlineScorerClient.RegisterAsync(admin, name, "linear-v2.onnx");
        await OnlineScorerClient.SetAliasAsync(admin, name, "production", 1);
        await using var traffic = Traffic.Start(platform.CreateGatewayClient(PlatformFixture.ReaderApiKey), name);
        var console = Browse();
        console.SignIn(PlatformFixture.ReaderApiKey, "reader");
        console.Go($"#/models/{name}/versions/1");

        // No reload: the page refreshes its series every few seconds.
        browser.Until(_ => console.ChartHas("chart-rate", "p.y > 0") && console.ChartHas("chart-latency", "p.y !== null"), "requests and latency on the charts");
        Assert.NotEqual("0", console.Find("#chart-summary").GetAttribute("data-requests"));
        // A caller's malformed requests draw the client-error line, apart from the server errors (issue 19: error rate by outcome class).
        using (var caller = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey))
        {
            for (var i = 0; i < 5; i++)
            {
                using var bad = await caller.PostAsync($"/v2/models/{name}/infer",
                    new StringContent("""{"inputs":[{"name":"nope","shape":[1],"datatype":"FP32","data":[1]}]}""", System.Text.Encoding.UTF8, "application/json"))
                    .WaitAsync(PlatformFixture.RequestTimeout);
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            }
        }
        Assert.Equal(["v1 server errors", "v1 client errors", "v1 rejected"],
            console.Script<IReadOnlyCollection<object>>("return Chart.getChart('chart-errors').data.datasets.map(d => d.label)").Cast<string>());
        browser.Until(_ => console.ChartHas("chart-errors", "p.y > 0", dataset: 1), "client errors on the error chart");
        Assert.False(console.ChartHas("chart-errors", "p.y > 0", dataset: 0));
        console.Find("#chart-compare").Click();
        console.Find("#chart-compare option[value='2']").Click();
        browser.Until(_ => console.Script<long>("return Chart.getChart('chart-rate').data.datasets.length") == 2, "v2 overlaid");
        Assert.Equal("v2", console.Script<string>("return Chart.getChart('chart-rate').data.datasets[1].label"));
        Assert.True(traffic.Count("v1") > 0);
        console.Screenshot("version-charts", height: 1400);

        // The same series through the API: per-minute buckets (a 6-hour window at 5 minutes) hold what the per-second ones counted.
        using var reader = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var series = JsonDocument.Parse(await reader.GetStringAsync($"/v1/models/{name}/versions/1/stats/series?window=6h&step=5m").WaitAsync(PlatformFixture.RequestTimeout));
        var points = series.RootElement.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(72, points.Count);
        Assert.Equal(["requests", "errors", "clientErrors", "rejected"], series.RootElement.GetProperty("counters").EnumerateArray().Select(c => c.GetString()));
        Assert.True(points.Sum(p => p.GetProperty("counts").GetProperty("requests").GetInt64()) > 0);
        Assert.Equal(5, points.Sum(p => p.GetProperty("counts").GetProperty("clientErrors").GetInt64()));
        using var tooFine = await reader.GetAsync($"/v1/models/{name}/versions/1/stats/series?window=6h&step=10s").WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.BadRequest, tooFine.StatusCode);
        Assert.Contains("at most 1440 points", await tooFine.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ABatchJobsProgressBarReachesHundredPercent()
    {
        using var admin = platform.CreateGatewayClient();
        var batch = new BatchTestClient(admin);
        var name = Unique("console-batch");
        await batch.RegisterAsync(name, "batch-linear.onnx");
        var console = Browse();
        console.SignIn(PlatformFixture.OperatorApiKey, "operator");
        console.Go("#/batch");

        // Submitted with the operator's key: an operator's console lists only the jobs its own key submitted.
        using var operatorClient = platform.CreateGatewayClient(PlatformFixture.OperatorApiKey);
        var id = await new BatchTestClient(operatorClient).SubmitRowsAsync(new { model = name, input = new { format = "jsonl" }, chunkSize = 500 }, 20_000);

        var progress = browser.Until(d => d.FindElement(By.CssSelector($".progress[data-job='{id}']")) is var p && p.GetAttribute("data-percent") == "100" ? p : null,
            "the job's progress bar at 100 %", BatchTestClient.JobTimeout)!;
        Assert.Contains("20000 done, 0 failed of 20000", progress.Text);
        var row = progress.FindElement(By.XPath("./ancestor::tr"));
        browser.Until(_ => row.Text.Contains("succeeded", StringComparison.Ordinal), "the job succeeded");
        Assert.EndsWith($"/v1/batch/jobs/{id}/results", row.FindElement(By.CssSelector("a.results-link")).GetAttribute("href"));
        console.Screenshot("batch-job");
    }

    [Fact]
    public async Task ARolloutStartedFromTheModelPageShowsItsAnalysesAndIsAborted()
    {
        using var admin = platform.CreateGatewayClient();
        var name = Unique("console-rollout");
        await OnlineScorerClient.RegisterAsync(admin, name, "linear-v1.onnx");
        await OnlineScorerClient.RegisterAsync(admin, name, "linear-v2.onnx");
        await OnlineScorerClient.SetAliasAsync(admin, name, "production", 1);
        await using var traffic = Traffic.Start(platform.CreateGatewayClient(PlatformFixture.ReaderApiKey), name);
        var console = Browse();
        console.SignIn(PlatformFixture.AdminApiKey, "admin");
        console.Go($"#/models/{name}");

        // 1 % of the traffic for the canary: far from the 50 requests an analysis needs, so each one is inconclusive and the rollout runs on.
        console.Fill("start-rollout-version", "2");
        console.Fill("start-rollout-steps", "1, 100");
        console.Fill("start-rollout-stepInterval", "2s");
        console.Fill("start-rollout-maxP99Ms", "60000");
        console.Fill("start-rollout-reason", "v2 retrained on November's data");
        console.SubmitAndConfirm("start-rollout");
        // The rollout's panel, not the guard's that watches production (set just before) in the same running list.
        var panel = $"article.rollout[data-model='{name}'][data-kind='rollout']";
        console.WaitForText(panel, "Current canary weight: 1 %");
        console.WaitForText(panel, "inconclusive");
        browser.Until(d => d.FindElements(By.CssSelector($"{panel} table tbody tr")).Count >= 2, "two analyses");
        console.Screenshot("rollout", height: 1200);

        var formId = console.Script<string>("return document.querySelector(arguments[0]).id", panel).Replace("rollout-", "abort-", StringComparison.Ordinal);
        console.Fill($"{formId}-reason", "enough seen at 1 %");
        console.SubmitAndConfirm(formId);
        browser.Until(d => d.FindElements(By.CssSelector(panel)).Count == 0, "the rollout leaves the running list");
        console.WaitForText("#past-rollouts-table", name);
        using var rollouts = await admin.GetAsync($"/v1/models/{name}/rollouts").WaitAsync(PlatformFixture.RequestTimeout);
        var rollout = JsonDocument.Parse(await rollouts.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Single(r => r.GetProperty("kind").GetString() == "rollout");
        Assert.Equal("aborted", rollout.GetProperty("status").GetString());
        Assert.Equal("admin", rollout.GetProperty("actor").GetString());
        // Both reasons recorded: why it started, why it was aborted (in the rollout and in the canary's alias history).
        Assert.Equal("v2 retrained on November's data", rollout.GetProperty("startReason").GetString());
        Assert.Equal("aborted by admin: enough seen at 1 %", rollout.GetProperty("reason").GetString());
        using var canary = await admin.GetAsync($"/v1/models/{name}/aliases/canary/history").WaitAsync(PlatformFixture.RequestTimeout);
        var reasons = JsonDocument.Parse(await canary.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(c => c.GetProperty("reason").GetString()).ToList();
        Assert.Contains(reasons, r => r!.EndsWith("step 1: 1%: v2 retrained on November's data", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r!.EndsWith("aborted by admin: enough seen at 1 %", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheKeyNeverReachesTheUrlThePageStorageOrLogsAndSignOutEndsTheSession()
    {
        var console = Browse();
        console.SignIn(PlatformFixture.AdminApiKey, "admin");
        console.Go("#/models");

        Assert.DoesNotContain(PlatformFixture.AdminApiKey, console.Driver.Url);
        Assert.DoesNotContain(PlatformFixture.AdminApiKey, console.Driver.PageSource);
        Assert.DoesNotContain(PlatformFixture.AdminApiKey, console.Script<string>("return document.documentElement.outerHTML + document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"));
        Assert.Equal(0L, console.Script<long>("return localStorage.length + sessionStorage.length"));
        Assert.Equal("", console.Script<string>("return document.cookie"));
        var cookie = console.Driver.Manage().Cookies.GetCookieNamed("mlp_session");
        Assert.NotNull(cookie);
        Assert.True(cookie.IsHttpOnly);
        Assert.Equal("Strict", cookie.SameSite);
        Assert.Equal("/", cookie.Path);

        // The cookie works for reads, and a write without the CSRF header is refused however valid the cookie.
        using var http = CookielessClient();
        using (var read = new HttpRequestMessage(HttpMethod.Get, "/v1/me"))
        {
            read.Headers.Add("Cookie", $"mlp_session={cookie.Value}");
            using var me = await http.SendAsync(read);
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
            Assert.Equal("admin", JsonDocument.Parse(await me.Content.ReadAsStringAsync()).RootElement.GetProperty("keyId").GetString());
        }
        using (var write = new HttpRequestMessage(HttpMethod.Post, "/v1/models/anything/rollback") { Content = JsonContent.Create(new { reason = "csrf" }) })
        {
            write.Headers.Add("Cookie", $"mlp_session={cookie.Value}");
            using var refused = await http.SendAsync(write);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("X-CSRF-Token", await refused.Content.ReadAsStringAsync());
        }

        console.Find("#signout").Click();
        console.Find("#signin-form");
        using (var after = new HttpRequestMessage(HttpMethod.Get, "/v1/me"))
        {
            after.Headers.Add("Cookie", $"mlp_session={cookie.Value}");
            using var ended = await http.SendAsync(after);
            Assert.Equal(HttpStatusCode.Unauthorized, ended.StatusCode);
        }

        var lines = await GatewayLogAsync("Console session of key 'admin' ended by sign-out");
        Assert.Contains(lines, l => l.Contains("Console session opened for key 'admin' (admin)", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(PlatformFixture.AdminApiKey, StringComparison.Ordinal) || l.Contains(cookie.Value, StringComparison.Ordinal));
        console.Screenshot("signed-out");
    }

    [Fact]
    public async Task SignInAnswersTheKeysIdentityAndRefusesAnUnknownKey()
    {
        // A client of its own that keeps no cookie: the fixture's clients share a handler (and its cookie jar) with every other test.
        using var http = CookielessClient();

        using var refused = await http.PostAsJsonAsync("/v1/session", new { apiKey = "not-a-key-0123456789abcdef" }).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.False(refused.Headers.Contains("Set-Cookie"));

        using var signedIn = await http.PostAsJsonAsync("/v1/session", new { apiKey = PlatformFixture.OperatorApiKey }).WaitAsync(PlatformFixture.RequestTimeout);
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        var setCookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", setCookie.Replace("__Host-", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        using var body = JsonDocument.Parse(await signedIn.Content.ReadAsStringAsync());
        Assert.Equal("operator", body.RootElement.GetProperty("keyId").GetString());
        Assert.Equal("operator", body.RootElement.GetProperty("role").GetString());

        using var bearer = platform.CreateGatewayClient(PlatformFixture.ReaderApiKey);
        using var me = await bearer.GetAsync("/v1/me").WaitAsync(PlatformFixture.RequestTimeout);
        using var identity = JsonDocument.Parse(await me.Content.ReadAsStringAsync());
        Assert.Equal("reader", identity.RootElement.GetProperty("role").GetString());
        Assert.Equal("api-key", identity.RootElement.GetProperty("authenticatedBy").GetString());
        Assert.False(identity.RootElement.TryGetProperty("csrfToken", out _));
    }

    [Fact]
    public void TheApiReferenceShowsNoHostedServiceButtonsNamesItsGroupsApartAndLinksTheConsole()
    {
        browser.Driver.Navigate().GoToUrl(new Uri(platform.App.GetEndpoint("gateway", "http"), "/docs"));
        // Scalar draws the reference from the merged document in the page: wait for a tag group of the registry.
        var text = browser.Until(d => ((IJavaScriptExecutor)d).ExecuteScript("return document.body.innerText") is string t && t.Contains("Model registry", StringComparison.Ordinal) ? t : null,
            "the API reference's groups")!;
        foreach (var offPlatform in new[] { "Ask AI", "Generate SDK", "Deploy .NET", "Deploy" })
        {
            Assert.DoesNotContain(text.Split('\n'), line => line.Trim() == offPlatform);
        }
        // The schemas' group is "Schemas", so no sidebar group is called "Models" (it was twice: the registry's and V2's schemas).
        Assert.DoesNotContain(text.Split('\n'), line => line.Trim() == "Models");
        var console = browser.Driver.FindElements(By.CssSelector("a[href='/ui/']"));
        Assert.NotEmpty(console);
        browser.Screenshot("api-docs");
    }

    private HttpClient CookielessClient() => new(new HttpClientHandler { UseCookies = false })
    {
        BaseAddress = platform.App.GetEndpoint("gateway", "http"),
        Timeout = PlatformFixture.RequestTimeout,
    };

    private static void SetAlias(ConsoleSession console, string alias, string version, string reason, string weight = "", bool doubleClick = false)
    {
        console.Fill("set-alias-alias", alias);
        console.Fill("set-alias-version", version);
        console.Fill("set-alias-weight", weight);
        console.Fill("set-alias-reason", reason);
        console.SubmitAndConfirm("set-alias", doubleClick);
    }

    /// <summary>The gateway's console log lines, read again until one contains <paramref name="until"/> (its output reaches the log service asynchronously).</summary>
    private async Task<List<string>> GatewayLogAsync(string until)
    {
        var logs = platform.App.Services.GetRequiredService<ResourceLoggerService>();
        var gateway = platform.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == "gateway");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var lines = new List<string>();
        while (true)
        {
            lines.Clear();
            // By the resource, not its name: DCP names each instance with a suffix, and the log service keys lines by those names.
            await foreach (var batch in logs.GetAllAsync(gateway))
            {
                lines.AddRange(batch.Select(l => l.Content));
            }
            if (lines.Any(l => l.Contains(until, StringComparison.Ordinal)))
            {
                return lines;
            }
            Assert.True(DateTime.UtcNow < deadline, $"The gateway's log never said '{until}'; its last lines:\n{string.Join('\n', lines.TakeLast(30))}");
            await Task.Delay(500);
        }
    }
}
