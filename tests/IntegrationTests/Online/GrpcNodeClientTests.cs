using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MlPlatform.Inference.Tensors;
using static MlPlatform.IntegrationTests.Online.OnlineScorerClient;

namespace MlPlatform.IntegrationTests.Online;

/// <summary>
/// A gRPC client that is not ours: tests/GrpcNodeClient (Node, @grpc/grpc-js and @grpc/proto-loader from npm, the repository's .proto
/// loaded at run time) calls ServerLive, ModelMetadata and ModelInfer with raw contents through the gateway's gRPC port.
/// </summary>
[Collection(OnlineScorerCollection.Name)]
public sealed class GrpcNodeClientTests(OnlineScorerFixture platform)
{
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task TheNodeGrpcClientCallsLiveMetadataAndRawInferThroughTheGateway()
    {
        var clientDir = RepositoryPath("tests", "GrpcNodeClient");
        if (!Directory.Exists(Path.Combine(clientDir, "node_modules", "@grpc", "grpc-js")))
        {
            // The lock file pins @grpc/grpc-js 1.14.7 and @grpc/proto-loader 0.8.1.
            var (installExit, installOutput) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], clientDir, NpmTimeout);
            Assert.True(installExit == 0, $"npm ci failed: {installOutput}");
        }
        using var http = platform.CreateGatewayClient();
        var name = UniqueName("node");
        var (version, _) = await RegisterAsync(http, name, "linear-v1.onnx");
        await SetAliasAsync(http, name, "production", version);
        float[] values = [0.5f, 0.75f, 1f, 1.25f];
        using var local = LoadLocally("linear-v1.onnx");
        using var input = TensorBuffer.FromValues<float>("input", TensorDataType.FP32, [1, 4], values);
        var expected = local.Run([input], local.OutputNames);

        var grpc = platform.App.GetEndpoint("gateway", "grpc");
        var (exit, output) = await RunAsync("node",
            [Path.Combine(clientDir, "client.mjs"), $"{grpc.Host}:{grpc.Port}", PlatformFixture.ReaderApiKey, name,
                string.Join(',', values.Select(v => v.ToString(CultureInfo.InvariantCulture))), "1,4"],
            clientDir, PlatformFixture.RequestTimeout);

        Assert.True(exit == 0, $"node client failed: {output}");
        using var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var root = result.RootElement;
        Assert.True(root.GetProperty("live").GetBoolean());
        Assert.Equal((name, "onnx_onnxv1", "input"), (root.GetProperty("model").GetString(), root.GetProperty("platform").GetString(), root.GetProperty("input").GetString()));
        Assert.Equal(("1", "node-1", "scores"), (root.GetProperty("version").GetString(), root.GetProperty("id").GetString(), root.GetProperty("output").GetString()));
        Assert.Equal("FP32", root.GetProperty("datatype").GetString());
        Assert.Equal([1, 3], root.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        AssertClose(expected[0].AsSpan<float>(), root.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray());
        expected[0].Dispose();
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, string[] args, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string RepositoryPath(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MlPlatform.sln")))
        {
            dir = dir.Parent;
        }
        return Path.Combine([dir?.FullName ?? throw new InvalidOperationException("No repository root above the test binaries."), .. parts]);
    }
}
