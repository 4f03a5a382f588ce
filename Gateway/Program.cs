using MlPlatform.Gateway.Docs;
using MlPlatform.Gateway.Errors;
using MlPlatform.Gateway.Extensions;
using MlPlatform.Gateway.Limits;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.Services.AddProblemDetails();

var app = builder.Build();

app.UseTraceIdHeader();
app.UseGatewayErrors();
app.UseAuthentication();
app.UseAuthorization();
app.UseRequestTimeouts();
app.UseRateLimiter();

app.MapDefaultEndpoints();
app.MapApiDocsApi();
app.MapReverseProxy(proxy =>
{
    proxy.UseGatewayTimeoutStatus();
    proxy.UseBodySizeLimits();
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});

app.Run();
