using MlPlatform.Gateway.Auth;
using MlPlatform.Gateway.Console;
using MlPlatform.Gateway.Docs;
using MlPlatform.Gateway.Errors;
using MlPlatform.Gateway.Extensions;
using MlPlatform.Gateway.Forwarding;
using MlPlatform.Gateway.Health;
using MlPlatform.Gateway.Limits;
using MlPlatform.Gateway.Sessions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseTraceIdHeader();
app.UseGatewayErrors();
app.UseConsole();
app.UseAuthentication();
app.UseSessionCsrfProtection();
app.UseAuthorization();
app.UseClientErrorBudget();
app.UseRequestTimeouts();
// Cached anonymous answers (health, API documents) are served before they take a concurrency slot.
app.UseOutputCache();
app.UseRateLimiter();

// The gateway's port is public: its own metrics need a key (a reader key is enough for a scraper).
app.MapDefaultEndpoints(metricsPolicy: GatewayRoles.Reader);
app.MapApiDocsApi();
app.MapSessionApi();
app.MapReverseProxy(proxy =>
{
    // First: writes what a refused, failed or timed-out forward becomes (ForwardFailures decides), then drains the unread body.
    proxy.UseMiddleware<ForwardOutcomeMiddleware>();
    proxy.UseBodySizeLimits();
    proxy.UseStreamMessageLimits();
    proxy.UseSessionAffinity();
    proxy.UseRetryOnAnotherInstance();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});

app.Run();
