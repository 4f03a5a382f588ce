namespace MlPlatform.AppHost;

/// <summary>
/// Replicated services on the one-machine run. DCP's proxy in front of a replicated project keeps accepting connections after every
/// replica behind it has died, so the gateway would wait for its own timeout instead of being refused at once. In run mode each replica
/// is therefore its own resource, served without a proxy (the first keeps the service's name, the others get <c>-2</c>, <c>-3</c>…), and the
/// gateway learns all of them under the one service name. In publish mode it stays one resource with a replica count, as Kubernetes runs it.
/// </summary>
internal static class ServiceReplicas
{
    /// <summary>Adds <paramref name="replicas"/> instances of project <typeparamref name="TProject"/>, each configured by <paramref name="configure"/>.</summary>
    public static IReadOnlyList<IResourceBuilder<ProjectResource>> AddReplicatedProject<TProject>(this IDistributedApplicationBuilder builder,
        string name, int replicas, Func<IResourceBuilder<ProjectResource>, IResourceBuilder<ProjectResource>> configure)
        where TProject : IProjectMetadata, new()
    {
        if (replicas < 1)
        {
            throw new DistributedApplicationException($"The replica count of '{name}' must be at least 1, not {replicas}.");
        }
        if (builder.ExecutionContext.IsPublishMode)
        {
            return [configure(builder.AddProject<TProject>(name)).WithReplicas(replicas)];
        }
        return Enumerable.Range(1, replicas)
            .Select(i => configure(builder.AddProject<TProject>(i == 1 ? name : $"{name}-{i}")).WithUnproxiedHttpEndpoint())
            .ToList();
    }

    /// <summary>
    /// References every replica under the first one's name, so service discovery resolves <c>http://{name}</c> to all of them
    /// (<c>services__{name}__http__{i}</c>) and YARP balances over them and health-checks each.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> builder,
        IReadOnlyList<IResourceBuilder<ProjectResource>> replicas)
    {
        var name = replicas[0].Resource.Name;
        builder.WithReference(replicas[0]);
        for (var i = 1; i < replicas.Count; i++)
        {
            builder.WithEnvironment($"services__{name}__http__{i}", replicas[i].GetEndpoint("http"));
        }
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WaitFor(this IResourceBuilder<ProjectResource> builder,
        IReadOnlyList<IResourceBuilder<ProjectResource>> replicas)
    {
        foreach (var replica in replicas)
        {
            builder.WaitFor(replica);
        }
        return builder;
    }

    /// <summary>
    /// Publish mode: turns the gateway's own backend health checks off (<c>BackendHealth:Enabled=false</c>). There each backend is one
    /// Service address whose readiness probes already remove dead pods; probing through it would mark the whole Service down for one bad pod.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithBackendHealthChecks(this IResourceBuilder<ProjectResource> gateway) =>
        gateway.ApplicationBuilder.ExecutionContext.IsPublishMode ? gateway.WithEnvironment("BackendHealth__Enabled", "false") : gateway;
}
