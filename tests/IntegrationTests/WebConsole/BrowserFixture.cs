using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace MlPlatform.IntegrationTests.WebConsole;

/// <summary>
/// One headless Chromium (Debian's <c>chromium</c> and <c>chromedriver</c>, installed by <c>./platform test</c> when missing) for the console's
/// tests, with a fresh profile and every background network feature off: the machines have no internet, and a test must only talk to the gateway.
/// </summary>
public sealed class BrowserFixture : IDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);

    private static readonly string[] ChromiumPaths = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
    private const string DriverFolder = "/usr/bin";
    private const string DriverFile = "chromedriver";

    private readonly string _profile = Path.Combine(Path.GetTempPath(), "mlplatform-chromium", Guid.NewGuid().ToString("N"));

    public BrowserFixture()
    {
        var chromium = ChromiumPaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("Chromium is not installed: run 'apt-get install -y chromium chromium-driver' (./platform test does it).");
        if (!File.Exists(Path.Combine(DriverFolder, DriverFile)))
        {
            throw new InvalidOperationException("chromedriver is not installed: run 'apt-get install -y chromium-driver' (./platform test does it).");
        }
        Directory.CreateDirectory(_profile);
        var options = new ChromeOptions { BinaryLocation = chromium };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--window-size=1280,800", $"--user-data-dir={_profile}");
        var service = ChromeDriverService.CreateDefaultService(DriverFolder, DriverFile);
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        Driver = new ChromeDriver(service, options, TimeSpan.FromMinutes(2));
        Driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(30);
    }

    public ChromeDriver Driver { get; }

    /// <summary>Waits until <paramref name="condition"/> returns a non-null, non-false value, ignoring elements not there yet.</summary>
    public T Until<T>(Func<IWebDriver, T> condition, string what, TimeSpan? timeout = null)
    {
        var wait = new WebDriverWait(Driver, timeout ?? Wait) { PollingInterval = TimeSpan.FromMilliseconds(200), Message = $"Waited for {what}" };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait.Until(condition);
    }

    /// <summary>Saves a screenshot as <c>TestResults/console/{name}.png</c> at the repository root (kept by CI) and returns its path.</summary>
    public string Screenshot(string name)
    {
        var folder = Path.Combine(RepositoryRoot(), "TestResults", "console");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MlPlatform.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be writing its profile as it exits; the temp folder is cleaned by the OS.
        }
    }
}
