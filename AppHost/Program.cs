using Microsoft.Extensions.Configuration;
using MlPlatform.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

var dataDir = builder.GetDataDirectory();

// Infrastructure
var redis = builder.AddPlatformRedis("redis", dataDir);

// Services
var registry = builder.AddProject<Projects.ModelRegistry>("modelregistry")
    .WithDataDirectory(dataDir, "registry")
    .WithReference(redis).WaitFor(redis)
    .WithHttpHealthCheck("/health");

// Scorers wait for the registry because they reconcile their models with it on start.
var onlineScorer = builder.AddProject<Projects.OnlineScorer>("onlinescorer")
    .WithDataDirectory(dataDir, "onlinescorer")
    .WithReference(redis).WaitFor(redis)
    .WithReference(registry).WaitFor(registry)
    .WithHttpHealthCheck("/health");

var batchScorer = builder.AddProject<Projects.BatchScorer>("batchscorer")
    .WithDataDirectory(dataDir, "batch")
    .WithReference(redis).WaitFor(redis)
    .WithReference(registry).WaitFor(registry)
    .WithReplicas(builder.Configuration.GetValue("Platform:BatchScorerReplicas", 2))
    .WithConfigurationSections("BatchJobOptions", "BatchWorkerOptions")
    .WithHttpHealthCheck("/health");

// Gateway: the only external endpoint.
builder.AddProject<Projects.Gateway>("gateway")
    .WithReference(registry).WaitFor(registry)
    .WithReference(onlineScorer).WaitFor(onlineScorer)
    .WithReference(batchScorer).WaitFor(batchScorer)
    .WithGatewayPort(builder.Configuration.GetValue("Platform:GatewayPort", 8000))
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

builder.Build().Run();
