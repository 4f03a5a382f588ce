using OpenQA.Selenium;
using OpenQA.Selenium.Interactions;

namespace MlPlatform.IntegrationTests.WebConsole;

/// <summary>What the console's tests do in the browser: sign in, open a page, fill a field, confirm an action.</summary>
internal sealed class ConsoleSession(BrowserFixture browser, Uri gateway)
{
    public IWebDriver Driver => browser.Driver;

    public Uri Gateway => gateway;

    /// <summary>Signs in with <paramref name="apiKey"/> through the sign-in page, from a browser holding no session.</summary>
    public void SignIn(string apiKey, string expectedRole)
    {
        Driver.Navigate().GoToUrl(new Uri(gateway, "/ui/"));
        Driver.Manage().Cookies.DeleteAllCookies();
        Driver.Navigate().Refresh();
        var key = browser.Until(d => d.FindElement(By.Id("api-key")), "the sign-in form");
        key.SendKeys(apiKey);
        Driver.FindElement(By.Id("signin-submit")).Click();
        browser.Until(d => d.FindElement(By.Id("me")).Text.Contains($"({expectedRole})", StringComparison.Ordinal), $"signed in as {expectedRole}");
    }

    /// <summary>Opens a console route (<c>#/models/x</c>) and waits until it has drawn.</summary>
    public void Go(string hash)
    {
        Driver.Navigate().GoToUrl(new Uri(gateway, "/ui/" + hash));
        browser.Until(d => d.FindElements(By.CssSelector("main .loading")).Count == 0 && d.FindElements(By.CssSelector("main h1")).Count > 0, $"page {hash}");
    }

    public IWebElement Find(string css) => browser.Until(d => d.FindElement(By.CssSelector(css)), css);

    /// <summary>
    /// Types <paramref name="value"/> into the field <paramref name="id"/> until the field holds it. A refreshing page (the rollouts
    /// list redraws when an analysis lands) may replace an empty field between finding it and typing: WebDriver's clear blurs the
    /// field, and an empty, unfocused field is fair game for a redraw. So find, clear and type again until the value holds.
    /// </summary>
    public void Fill(string id, string value) =>
        browser.Until(d =>
        {
            var input = d.FindElement(By.Id(id));
            if (input.GetDomProperty("value") != value)
            {
                input.Clear();
                if (value.Length > 0)
                {
                    input.SendKeys(value);
                }
            }
            return input.GetDomProperty("value") == value;
        }, $"'{value}' in #{id}");

    /// <summary>Submits the action form <paramref name="formId"/> and confirms it (with a double click when asked, to prove it sends once).</summary>
    public void SubmitAndConfirm(string formId, bool doubleClick = false)
    {
        // A refreshing page may redraw the form between finding its button and clicking it: find and click again until it holds.
        browser.Until(d => { d.FindElement(By.CssSelector($"#{formId} button[type=submit]")).Click(); return true; }, $"submitting {formId}");
        var confirm = Find($"#{formId}-confirm");
        if (doubleClick)
        {
            new Actions(Driver).DoubleClick(confirm).Perform();
        }
        else
        {
            confirm.Click();
        }
    }

    public string WaitForText(string css, string contains) =>
        browser.Until(d => d.FindElement(By.CssSelector(css)).Text is var text && text.Contains(contains, StringComparison.Ordinal) ? text : null, $"'{contains}' in {css}")!;

    public T Script<T>(string script, params object[] arguments) => (T)((IJavaScriptExecutor)Driver).ExecuteScript(script, arguments)!;

    public T AsyncScript<T>(string script, params object[] arguments) => (T)((IJavaScriptExecutor)Driver).ExecuteAsyncScript(script, arguments)!;

    /// <summary>Whether a chart drawn by Chart.js on the canvas <paramref name="canvasId"/> has a data point matching the JavaScript predicate over <c>p</c>.</summary>
    public bool ChartHas(string canvasId, string predicate, int dataset = 0) => Script<bool>(
        $"const c = window.Chart && Chart.getChart(arguments[0]); const s = c && c.data.datasets[{dataset}]; return Boolean(s && s.data.some(p => {predicate}));",
        canvasId);

    /// <summary>A screenshot with a taller window, so a whole page fits; the window goes back to 1280×800.</summary>
    public string Screenshot(string name, int height = 800)
    {
        Driver.Manage().Window.Size = new System.Drawing.Size(1280, height);
        try
        {
            ((IJavaScriptExecutor)Driver).ExecuteScript("window.scrollTo(0, 0)");
            Thread.Sleep(300);
            return browser.Screenshot(name);
        }
        finally
        {
            Driver.Manage().Window.Size = new System.Drawing.Size(1280, 800);
        }
    }
}
