using MlPlatform.BatchScorer.Apis;
using MlPlatform.BatchScorer.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.Services.AddOpenApi();
builder.Services.AddProblemDetails();

var app = builder.Build();

app.UseExceptionHandler();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapBatchJobsApi();
app.MapReferenceApi();

app.Run();
