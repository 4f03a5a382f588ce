using MlPlatform.OnlineScorer.Apis;
using MlPlatform.OnlineScorer.Extensions;
using MlPlatform.OnlineScorer.Grpc;
using MlPlatform.OnlineScorer.Serving;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.AddGrpcFrontEnd();
builder.AddV2Errors();
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseV2Errors();
app.UseRepositoryBodiesAsJson();

// Readiness drops as soon as shutdown begins, so load balancers stop sending while in-flight requests drain.
app.Lifetime.ApplicationStopping.Register(app.Services.GetRequiredService<ServerReadiness>().MarkStopping);

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapHealthApi();
app.MapInferenceApi();
app.MapStatisticsApi();
app.MapRepositoryApi();
app.MapInferenceGrpc();

app.Run();
