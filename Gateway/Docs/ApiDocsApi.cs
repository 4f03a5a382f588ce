using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Scalar.AspNetCore;

namespace MlPlatform.Gateway.Docs;

/// <summary>
/// <c>/docs</c>: the interactive API reference (Scalar) over the backends' own OpenAPI documents, fetched over the internal
/// credential and merged into one document of everything the gateway serves. Open without a key: it describes, it never calls.
/// </summary>
public static class ApiDocsApi
{
    /// <summary>The merged document's name; the others are the services' resource names.</summary>
    public const string Platform = "platform";

    /// <summary>Backends whose <c>/openapi/v1.json</c> the gateway serves, by service-discovery name, in merge order.</summary>
    public static readonly string[] Services = ["modelregistry", "onlinescorer", "batchscorer"];

    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(10);

    public static IEndpointRouteBuilder MapApiDocsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/docs/openapi/{document}.json", GetDocument)
            .WithName("GetOpenApiDocument")
            .WithSummary("The merged OpenAPI document of the platform, or one service's")
            .AllowAnonymous();

        app.MapScalarApiReference("/docs", options =>
        {
            options.WithTitle("MlPlatform API")
                .WithOpenApiRoutePattern("/docs/openapi/{documentName}.json")
                .AddDocument(Platform, "MlPlatform (all services)", isDefault: true);
            foreach (var service in Services)
            {
                options.AddDocument(service, service);
            }
            options.AddPreferredSecuritySchemes(ApiKeyScheme);
            // The machines have no internet and the platform's docs lead nowhere else: no hosted-service toolbar
            // (Configure, Share, Generate SDK, Deploy), no AI chat, no MCP. Schemas get their own name, apart from the registry's models.
            options.HideDeveloperTools().DisableAgent().DisableMcp();
            options.Localization = new ScalarLocalizationOptions
            {
                Translations = new JsonObject { ["models"] = new JsonObject { ["label"] = "Schemas" } },
            };
        }).AllowAnonymous();
        return app;
    }

    private const string ApiKeyScheme = "apiKey";

    private static async Task<Results<ContentHttpResult, NotFound<ProblemDetails>, ProblemHttpResult>> GetDocument(
        string document, IHttpClientFactory httpClientFactory, ILoggerFactory loggerFactory, CancellationToken ct)
    {
        var logger = loggerFactory.CreateLogger(typeof(ApiDocsApi));
        if (document != Platform && !Services.Contains(document))
        {
            return TypedResults.NotFound(new ProblemDetails
            {
                Status = StatusCodes.Status404NotFound,
                Title = "No such API document",
                Detail = $"'{document}' is not a document; there are {Platform}, {string.Join(", ", Services)}.",
            });
        }

        var wanted = document == Platform ? Services : [document];
        var fetched = await Task.WhenAll(wanted.Select(s => FetchAsync(httpClientFactory, s, logger, ct)));
        var documents = wanted.Zip(fetched).Where(d => d.Second is not null).ToList();
        if (documents.Count == 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "API documents unavailable",
                detail: $"No OpenAPI document could be fetched from {string.Join(", ", wanted)}; see the gateway's log.");
        }
        var merged = Merge(documents.Select(d => d.Second!).ToList(),
            missing: wanted.Except(documents.Select(d => d.First)).ToList(),
            title: document == Platform ? "MlPlatform" : $"MlPlatform {document}");
        return TypedResults.Content(merged.ToJsonString(), "application/json");
    }

    private static async Task<JsonObject?> FetchAsync(IHttpClientFactory httpClientFactory, string service, ILogger logger, CancellationToken ct)
    {
        // Service discovery and the internal credential come with every factory client (ServiceDefaults).
        using var client = httpClientFactory.CreateClient();
        client.Timeout = FetchTimeout;
        try
        {
            var text = await client.GetStringAsync($"http://{service}/openapi/v1.json", ct);
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested)
        {
            logger.LogWarning(ex, "The OpenAPI document of {Service} could not be fetched", service);
            return null;
        }
    }

    /// <summary>
    /// Paths, tags and components of every document in one; the first document to name a path or component keeps it
    /// (services own disjoint prefixes, so a collision is a bug worth seeing as a missing entry, not a silent overwrite).
    /// The gateway is the only server, and every operation asks for an API key.
    /// </summary>
    public static JsonObject Merge(IReadOnlyList<JsonObject> documents, IReadOnlyList<string> missing, string title)
    {
        var paths = new JsonObject();
        var components = new JsonObject();
        var tags = new JsonArray();
        var tagNames = new HashSet<string>();
        foreach (var doc in documents)
        {
            foreach (var (path, item) in doc["paths"] as JsonObject ?? [])
            {
                if (!paths.ContainsKey(path))
                {
                    paths[path] = item?.DeepClone();
                }
            }
            foreach (var (kind, entries) in doc["components"] as JsonObject ?? [])
            {
                if (components[kind] is not JsonObject target)
                {
                    components[kind] = target = new JsonObject();
                }
                foreach (var (name, entry) in entries as JsonObject ?? [])
                {
                    if (!target.ContainsKey(name))
                    {
                        target[name] = entry?.DeepClone();
                    }
                }
            }
            foreach (var tag in doc["tags"] as JsonArray ?? [])
            {
                if (tag?["name"]?.ToString() is { } name && tagNames.Add(name))
                {
                    tags.Add(tag.DeepClone());
                }
            }
        }
        if (components["securitySchemes"] is not JsonObject schemes)
        {
            components["securitySchemes"] = schemes = new JsonObject();
        }
        schemes[ApiKeyScheme] = new JsonObject
        {
            ["type"] = "http",
            ["scheme"] = "bearer",
            ["description"] = "An API key (reader, operator or admin; docs/gateway.md), as `Authorization: Bearer <key>` or `X-API-Key`.",
        };

        var description = "Every route as the gateway serves it. Errors are RFC 7807 problem details, `{\"error\": ...}` under `/v2`. "
            + "The same operations with a browser: the [web console](/ui/) (sign in with an API key; `POST /v1/session`, `GET /v1/me` and `DELETE /v1/session` are the gateway's own, in docs/console.md).";
        if (missing.Count > 0)
        {
            description += $" Not included (unreachable when this document was built): {string.Join(", ", missing)}.";
        }
        var merged = new JsonObject
        {
            ["openapi"] = documents[0]["openapi"]?.DeepClone() ?? "3.1.1",
            ["info"] = new JsonObject { ["title"] = title, ["version"] = "v1", ["description"] = description },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = "/" }),
            ["security"] = new JsonArray(new JsonObject { [ApiKeyScheme] = new JsonArray() }),
            ["paths"] = paths,
            ["components"] = components,
        };
        if (tags.Count > 0)
        {
            merged["tags"] = tags;
        }
        return merged;
    }
}
