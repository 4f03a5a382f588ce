using Microsoft.Extensions.FileProviders;

namespace MlPlatform.Gateway.Console;

/// <summary>
/// The web console at <c>/ui</c>: static files (HTML, ES modules, CSS, the vendored chart library) copied next to the gateway's
/// assembly by the build (<c>Gateway.csproj</c>), served without a key (they hold no data: every figure comes from the public API
/// through the session cookie), under a Content-Security-Policy that allows scripts and styles from this origin only.
/// </summary>
internal static class ConsoleExtensions
{
    public const string Path = "/ui";

    /// <summary>Folder of the built assets, beside the assembly.</summary>
    public static readonly string AssetsFolder = System.IO.Path.Combine(AppContext.BaseDirectory, "console");

    /// <summary>No inline script or style, no other origin, no framing, no plugins; fetches only to this gateway.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseConsole(this WebApplication app)
    {
        if (!Directory.Exists(AssetsFolder))
        {
            app.Logger.LogWarning("The console's assets are missing ({Folder}); /ui answers 404. Build the gateway with npm available.", AssetsFolder);
            return app;
        }
        var files = new PhysicalFileProvider(AssetsFolder);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(Path, out var rest))
            {
                if (!rest.HasValue)
                {
                    context.Response.Redirect(Path + "/", permanent: false);
                    return;
                }
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                // Assets change with every build and are small: revalidate rather than serve a stale script against a newer API.
                headers.CacheControl = "no-cache";
            }
            await next(context);
        });
        app.UseDefaultFiles(new DefaultFilesOptions { RequestPath = Path, FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { RequestPath = Path, FileProvider = files });
        return app;
    }
}
