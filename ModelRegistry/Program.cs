using MlPlatform.ModelRegistry.Apis;
using MlPlatform.ModelRegistry.Extensions;
using MlPlatform.ModelRegistry.Inspection;

// The registry re-invokes itself to open uploaded models in a separate, limited process.
if (InspectCommand.IsInvocation(args))
{
    return InspectCommand.Run(args);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi();

var app = builder.Build();

// Malformed request bodies are the caller's fault: 400 problem details, not 500.
app.UseExceptionHandler(new ExceptionHandlerOptions
{
    StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
});
app.UseStatusCodePages();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapModelsApi();
app.MapAliasesApi();
app.MapArtifactsApi();
app.MapServingApi();
app.MapPinsApi();
app.MapStatsApi();
app.MapRolloutsApi();
app.MapAlertsApi();
app.MapPayloadsApi();
app.MapQualityApi();

app.Run();
return 0;
