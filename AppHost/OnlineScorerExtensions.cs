using Microsoft.Extensions.Configuration;

namespace MlPlatform.AppHost;

/// <summary>The online scorer's endpoints and replicas, and how the gateway reaches them.</summary>
internal static class OnlineScorerExtensions
{
    /// <summary>The name of the HTTP/2-only (h2c) endpoint that serves gRPC, on the online scorer and on the gateway.</summary>
    public const string GrpcEndpointName = "grpc";

    /// <summary>The port the images serve gRPC on in publish mode (HTTP on <see cref="ContainerHttpPort"/>).</summary>
    public const int ContainerGrpcPort = 8081;

    /// <summary>
    /// Adds the HTTP/2-only endpoint <see cref="GrpcEndpointName"/> beside the resource's http endpoint. Cleartext HTTP/2 needs an
    /// endpoint of its own (Kestrel can only tell HTTP/1.1 from HTTP/2 by TLS negotiation), and Kestrel takes a protocol per endpoint
    /// only from its own configuration, which replaces ASPNETCORE_URLS: so both endpoints are given as <c>Kestrel:Endpoints</c>.
    /// Run mode: bound directly (unproxied, like the http endpoint) on <paramref name="port"/> or, for 0, a free port picked now.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithGrpcEndpoint(this IResourceBuilder<ProjectResource> builder, int port = 0)
    {
        var publish = builder.ApplicationBuilder.ExecutionContext.IsPublishMode;
        if (!publish && port <= 0)
        {
            port = Extensions.FreeLoopbackPort();
        }
        builder.WithEndpoint(GrpcEndpointName, e =>
        {
            e.UriScheme = "http";
            e.Transport = "http2";
            if (publish)
            {
                e.TargetPort = ContainerGrpcPort;
            }
            else
            {
                e.Port = port;
                e.TargetPort = port;
                e.IsProxied = false;
            }
        }, createIfNotExists: true);

        var host = publish ? "*" : "localhost";
        var http = builder.GetEndpoint("http");
        var grpc = builder.GetEndpoint(GrpcEndpointName);
        return builder
            .WithEndpointsInEnvironment(_ => false)
            .WithEnvironment("Kestrel__Endpoints__http__Url", ReferenceExpression.Create($"http://{host}:{http.Property(EndpointProperty.TargetPort)}"))
            .WithEnvironment("Kestrel__Endpoints__grpc__Url", ReferenceExpression.Create($"http://{host}:{grpc.Property(EndpointProperty.TargetPort)}"))
            .WithEnvironment("Kestrel__Endpoints__grpc__Protocols", "Http2");
    }

    /// <summary>
    /// Adds the online scorer <c>Platform:OnlineScorerReplicas</c> times (default 1). In run mode each replica is a resource of its own
    /// (<c>onlinescorer</c>, <c>onlinescorer-2</c>, ...) with unproxied endpoints, so the gateway keeps its direct hop and spreads the
    /// load itself; in publish mode it is one resource with that replica count (the orchestrator spreads the load).
    /// </summary>
    public static IReadOnlyList<IResourceBuilder<ProjectResource>> AddOnlineScorers(this IDistributedApplicationBuilder builder,
        Func<string, IResourceBuilder<ProjectResource>> add)
    {
        var replicas = builder.Configuration.GetValue("Platform:OnlineScorerReplicas", 1);
        if (replicas is < 1 or > 16)
        {
            throw new DistributedApplicationException($"Platform:OnlineScorerReplicas must be between 1 and 16, not {replicas}.");
        }
        if (builder.ExecutionContext.IsPublishMode)
        {
            return [add("onlinescorer").WithReplicas(replicas)];
        }
        return [.. Enumerable.Range(1, replicas).Select(i => add(i == 1 ? "onlinescorer" : $"onlinescorer-{i}"))];
    }

    /// <summary>
    /// The gateway references every scorer replica and lists each as a destination of its REST and gRPC clusters
    /// (the first is in its appsettings.json).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithOnlineScorers(this IResourceBuilder<ProjectResource> gateway,
        IReadOnlyList<IResourceBuilder<ProjectResource>> scorers)
    {
        for (var i = 0; i < scorers.Count; i++)
        {
            var scorer = scorers[i];
            gateway.WithReference(scorer).WaitFor(scorer);
            if (i > 0)
            {
                var name = scorer.Resource.Name;
                gateway.WithEnvironment($"ReverseProxy__Clusters__onlinescorer__Destinations__{name}__Address", $"http://{name}")
                    .WithEnvironment($"ReverseProxy__Clusters__onlinescorer-grpc__Destinations__{name}__Address", $"http://_grpc.{name}");
            }
        }
        return gateway;
    }
}
