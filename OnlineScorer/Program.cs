using MlPlatform.OnlineScorer.Apis;
using MlPlatform.OnlineScorer.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapHealthApi();

app.Run();
