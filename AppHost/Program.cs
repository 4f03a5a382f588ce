using Microsoft.Extensions.Configuration;
using MlPlatform.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

var dataDir = builder.GetDataDirectory();

// Infrastructure
var redis = builder.AddPlatformRedis("redis", dataDir);
// The response cache has a Redis of its own, bounded and evicting, so it can never fill the one that holds queues and job state.
var responseCache = builder.AddPlatformRedis("redis-cache", dataDir, RedisRole.Cache);

// Secrets: the gateway's API keys and the credential that marks a request as having come through the gateway.
var gatewayPort = builder.Configuration.GetValue("Platform:GatewayPort", 8000);
var gatewayGrpcPort = builder.Configuration.GetValue("Platform:GatewayGrpcPort", 8001);
var adminApiKey = builder.AddAdminApiKey(dataDir, gatewayPort);
var operatorApiKey = builder.AddOptionalApiKey(ApiKeys.OperatorKeyParameter);
var readerApiKey = builder.AddOptionalApiKey(ApiKeys.ReaderKeyParameter);
var internalApiKey = builder.AddInternalApiKey();

// Services
var registry = builder.AddProject<Projects.ModelRegistry>("modelregistry")
    .WithDataDirectory(dataDir, "registry")
    .WithInternalCredential(internalApiKey)
    .WithSettingsFrom(builder.Configuration.GetSection("Registry"))
    .WithDemoModel(builder.Configuration.GetValue("Platform:DemoModel", true))
    .WithOperatorCommands(internalApiKey)
    .WithReference(redis).WaitFor(redis)
    .WithHttpHealthCheck("/health");

// Scorers wait for the registry because they reconcile their models with it on start.
var onlineScorers = builder.AddOnlineScorers(name => builder.AddProject<Projects.OnlineScorer>(name)
    .WithDataDirectory(dataDir, name)
    .WithInternalCredential(internalApiKey)
    .WithReference(redis).WaitFor(redis)
    .WithReference(responseCache).WaitFor(responseCache)
    .WithReference(registry).WaitFor(registry)
    .WithSettingsFrom(builder.Configuration.GetSection("OnlineScorer"))
    .WithUnproxiedHttpEndpoint()
    .WithGrpcEndpoint()
    .WithHttpHealthCheck("/health"));

var batchScorer = builder.AddProject<Projects.BatchScorer>("batchscorer")
    .WithDataDirectory(dataDir, "batch")
    .WithInternalCredential(internalApiKey)
    .WithReference(redis).WaitFor(redis)
    .WithReference(registry).WaitFor(registry)
    .WithReplicas(builder.Configuration.GetValue("Platform:BatchScorerReplicas", 2))
    .WithSettingsFrom(builder.Configuration.GetSection("BatchScorer"))
    .WithHttpHealthCheck("/health");

// Gateway: the only external endpoint.
builder.AddProject<Projects.Gateway>("gateway")
    .WithReference(registry).WaitFor(registry)
    .WithOnlineScorers(onlineScorers)
    .WithReference(batchScorer).WaitFor(batchScorer)
    .WithInternalCredential(internalApiKey)
    .WithApiKey("admin", adminApiKey)
    .WithApiKey("operator", operatorApiKey)
    .WithApiKey("reader", readerApiKey)
    .WithSettingsFrom(builder.Configuration.GetSection("Gateway"))
    .WithGatewayPort(gatewayPort)
    .WithGrpcEndpoint(gatewayGrpcPort)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

builder.PublishProjectsAsContainers();

builder.Build().Run();
