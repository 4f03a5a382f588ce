using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;
using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.ModelRegistry.Inspection;

/// <summary>
/// The child side of model inspection: <c>ModelRegistry inspect &lt;blob path&gt;</c> opens one file with ONNX Runtime and writes one JSON
/// <see cref="InspectionReport"/> to stdout. It runs in its own process so that a file which crashes or exhausts ONNX Runtime only takes this process down.
/// </summary>
public static class InspectCommand
{
    public const string Name = "inspect";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static bool IsInvocation(string[] args) => args is [Name, _];

    /// <summary>The environment variable through which the registry passes the CPU-time limit (seconds) to the child.</summary>
    public const string CpuSecondsVariable = "MLPLATFORM_INSPECT_CPU_SECONDS";

    public static int Run(string[] args)
    {
        // Set before the file is touched: from here on the kernel ends this process (SIGXCPU) when ORT spins past the limit.
        if (int.TryParse(Environment.GetEnvironmentVariable(CpuSecondsVariable), out var cpuSeconds) && cpuSeconds > 0)
        {
            ProcessLimits.LimitCpuSeconds(cpuSeconds);
        }
        var report = Inspect(args[1]);
        Console.Out.Write(JsonSerializer.Serialize(report, Json));
        Console.Out.Flush();
        return 0;
    }

    private static InspectionReport Inspect(string path)
    {
        using (var file = File.OpenRead(path))
        {
            switch (ExternalDataScanner.Scan(file, out var problem))
            {
                case ExternalDataScan.Present:
                    return InspectionReport.Refused(
                        "The model stores tensor data in external files; only self-contained ONNX files (under 2 GB) are accepted.");
                case ExternalDataScan.Unreadable:
                    // Never handed to ORT: whatever the scan cannot follow could name external files ORT would read.
                    return InspectionReport.Refused(
                        $"The file is not a well-formed ONNX model: {problem} Only self-contained ONNX files (under 2 GB) are accepted.");
            }
        }

        try
        {
            using var options = new SessionOptions
            {
                IntraOpNumThreads = 1,
                InterOpNumThreads = 1,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
            };
            using var session = new InferenceSession(path, options);
            var inputs = session.InputNames.Select(name => Describe(name, session.InputMetadata[name])).ToList();
            var outputs = session.OutputNames.Select(name => Describe(name, session.OutputMetadata[name])).ToList();
            return new InspectionReport(new ModelSignature(inputs, outputs), null);
        }
        catch (OnnxRuntimeException ex)
        {
            // The blob path is the registry's business, not the caller's.
            return InspectionReport.Refused($"ONNX Runtime cannot load the model: {PathRedaction.Redact(ex.Message, path)}");
        }
        catch (UnsupportedSignatureException ex)
        {
            return InspectionReport.Refused(ex.Message);
        }
    }

    private static TensorSpec Describe(string name, NodeMetadata metadata)
    {
        if (metadata.OnnxValueType != OnnxValueType.ONNX_TYPE_TENSOR)
        {
            throw new UnsupportedSignatureException(
                $"'{name}' is a {metadata.OnnxValueType}; only tensor inputs and outputs can be served.");
        }
        // ONNX Runtime's element types are the ONNX element type codes the V2 datatype table is keyed by.
        var datatype = TensorDataTypes.TryFromOnnxElementType((int)metadata.ElementDataType, out var type)
            ? type.ToV2Name()
            : throw new UnsupportedSignatureException($"'{name}' has element type {metadata.ElementDataType}, which has no V2 datatype.");
        return new TensorSpec(name, datatype, metadata.Dimensions.Select(d => d < 0 ? -1L : d).ToArray());
    }

    private sealed class UnsupportedSignatureException(string message) : Exception(message);
}

/// <summary>What the inspection process reports: a signature, or why the file is refused.</summary>
public sealed record InspectionReport(ModelSignature? Signature, string? Error)
{
    public static InspectionReport Refused(string error) => new(null, error);
}
