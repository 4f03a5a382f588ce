using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace MlPlatform.AppHost;

/// <summary>The gateway's API keys and the services' internal credential, all secret parameters.</summary>
internal static class ApiKeys
{
    public const string AdminKeyParameter = "admin-api-key";
    public const string OperatorKeyParameter = "operator-api-key";
    public const string ReaderKeyParameter = "reader-api-key";
    public const string InternalKeyParameter = "internal-api-key";

    /// <summary>
    /// The <c>admin-api-key</c> parameter. When running in Development with none configured, a random key is generated at first start,
    /// kept in <c>{dataDir}/secrets/admin-api-key</c> (owner-only) and printed once with how to use it.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddAdminApiKey(this IDistributedApplicationBuilder builder, string dataDir, int gatewayPort)
    {
        var configKey = $"Parameters:{AdminKeyParameter}";
        if (builder.ExecutionContext.IsRunMode && builder.Environment.IsDevelopment() && string.IsNullOrEmpty(builder.Configuration[configKey]))
        {
            builder.Configuration[configKey] = ReadOrCreateDevelopmentKey(Path.Combine(dataDir, "secrets", AdminKeyParameter), gatewayPort);
        }
        return builder.AddParameter(AdminKeyParameter, secret: true);
    }

    /// <summary>An optional key parameter (<c>operator-api-key</c>, <c>reader-api-key</c>): declared only when configured, since an unset one means that role has no key.</summary>
    public static IResourceBuilder<ParameterResource>? AddOptionalApiKey(this IDistributedApplicationBuilder builder, string name) =>
        string.IsNullOrEmpty(builder.Configuration[$"Parameters:{name}"]) ? null : builder.AddParameter(name, secret: true);

    /// <summary>
    /// The internal credential every service requires on inbound requests (probes exempt) and attaches to calls to other services.
    /// Generated afresh at each start unless configured; the manifest asks the deployment to generate one.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddInternalApiKey(this IDistributedApplicationBuilder builder) =>
        builder.AddParameter(InternalKeyParameter, new GenerateParameterDefault { MinLength = 43, Special = false }, secret: true);

    /// <summary>Gives a service the internal credential as <c>InternalCredential__Key</c>.</summary>
    public static IResourceBuilder<T> WithInternalCredential<T>(this IResourceBuilder<T> builder, IResourceBuilder<ParameterResource> key)
        where T : IResourceWithEnvironment =>
        builder.WithEnvironment("InternalCredential__Key", key);

    /// <summary>Gives the gateway <paramref name="key"/> as the key of id <paramref name="role"/> with that role; a null key adds nothing.</summary>
    public static IResourceBuilder<ProjectResource> WithApiKey(this IResourceBuilder<ProjectResource> gateway, string role, IResourceBuilder<ParameterResource>? key)
    {
        if (key is null)
        {
            return gateway;
        }
        return gateway
            .WithEnvironment($"ApiKeys__Keys__{role}__Role", role)
            .WithEnvironment($"ApiKeys__Keys__{role}__Key", key);
    }

    private static string ReadOrCreateDevelopmentKey(string path, int gatewayPort)
    {
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } existing)
        {
            Console.WriteLine($"MlPlatform: using the development admin API key kept in {path}");
            return existing;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var writer = new StreamWriter(path, options))
        {
            writer.Write(key);
        }

        var port = gatewayPort > 0 ? gatewayPort : 8000;
        Console.WriteLine($"""

            MlPlatform: no admin API key was configured, so one was generated for local development and kept in
              {path}
            It is shown this once:
              {key}
            Use it as a bearer token or an X-API-Key header:
              curl -H "Authorization: Bearer {key}" http://localhost:{port}/v1/models
            To choose your own, set the AppHost parameter instead:
              dotnet user-secrets --project AppHost set Parameters:{AdminKeyParameter} <key>   (or Parameters__{AdminKeyParameter}=<key>)

            """);
        return key;
    }
}
