using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MlPlatform.GrpcContracts;

namespace MlPlatform.Cli.Gateway;

/// <summary>
/// <c>mlp infer --grpc</c>: sends a V2 JSON request as a gRPC <c>ModelInfer</c> (typed contents; FP16 as raw contents) to the
/// gateway's gRPC port and turns the response back into V2 JSON, so the output is the same as over REST.
/// </summary>
public static class GrpcInferClient
{
    public static async Task<JsonNode> InferAsync(Uri address, string? apiKey, string model, int? version, JsonNode body, CancellationToken ct)
    {
        ModelInferRequest request;
        try
        {
            request = ToRequest(model, version, body);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or OverflowException)
        {
            throw new CliException(ExitCodes.Usage, $"The input is not a V2 request gRPC can carry: {ex.Message}");
        }
        using var channel = GrpcChannel.ForAddress(address);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var headers = apiKey is null ? [] : new Metadata { { "authorization", $"Bearer {apiKey}" } };
        try
        {
            return ToJson(await client.ModelInferAsync(request, headers, cancellationToken: ct));
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled || !ct.IsCancellationRequested)
        {
            var code = ex.StatusCode switch
            {
                StatusCode.NotFound => ExitCodes.NotFound,
                StatusCode.InvalidArgument or StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.ResourceExhausted
                    or StatusCode.FailedPrecondition => ExitCodes.Refused,
                _ => ExitCodes.Unreachable,
            };
            throw new CliException(code, $"{address} answered {ex.StatusCode}: {ex.Status.Detail}");
        }
    }

    private static ModelInferRequest ToRequest(string model, int? version, JsonNode body)
    {
        var request = new ModelInferRequest
        {
            ModelName = model,
            ModelVersion = version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
            Id = body["id"]?.GetValue<string>() ?? "",
        };
        var inputs = body["inputs"]?.AsArray() ?? throw new CliException(ExitCodes.Usage, "The input has no 'inputs' array.");
        var raw = inputs.Any(i => i?["datatype"]?.GetValue<string>() == "FP16");
        foreach (var node in inputs.OfType<JsonObject>())
        {
            var datatype = node["datatype"]?.GetValue<string>() ?? "";
            var tensor = new ModelInferRequest.Types.InferInputTensor { Name = node["name"]?.GetValue<string>() ?? "", Datatype = datatype };
            tensor.Shape.AddRange(node["shape"]?.AsArray().Select(d => d!.GetValue<long>()) ?? []);
            var values = Flatten(node["data"]).ToList();
            var contents = new InferTensorContents();
            switch (datatype)
            {
                case "FP32": contents.Fp32Contents.AddRange(values.Select(v => v.GetValue<float>())); break;
                case "FP64": contents.Fp64Contents.AddRange(values.Select(v => v.GetValue<double>())); break;
                case "INT64": contents.Int64Contents.AddRange(values.Select(v => v.GetValue<long>())); break;
                case "INT8" or "INT16" or "INT32": contents.IntContents.AddRange(values.Select(v => v.GetValue<int>())); break;
                case "UINT64": contents.Uint64Contents.AddRange(values.Select(v => v.GetValue<ulong>())); break;
                case "UINT8" or "UINT16" or "UINT32": contents.UintContents.AddRange(values.Select(v => v.GetValue<uint>())); break;
                case "BOOL": contents.BoolContents.AddRange(values.Select(v => v.GetValue<bool>())); break;
                case "BYTES": contents.BytesContents.AddRange(values.Select(v => ByteString.CopyFromUtf8(v.GetValue<string>()))); break;
                case "FP16": break;
                default: throw new CliException(ExitCodes.Usage, $"Input '{tensor.Name}' has datatype '{datatype}', which gRPC contents cannot carry.");
            }
            if (raw)
            {
                request.RawInputContents.Add(ToRaw(datatype, values));
            }
            else
            {
                tensor.Contents = contents;
            }
            request.Inputs.Add(tensor);
        }
        foreach (var output in body["outputs"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = output["name"]?.GetValue<string>() ?? "" });
        }
        return request;
    }

    private static ByteString ToRaw(string datatype, List<JsonNode> values)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        foreach (var v in values)
        {
            switch (datatype)
            {
                case "FP16": writer.Write((Half)v.GetValue<float>()); break;
                case "FP32": writer.Write(v.GetValue<float>()); break;
                case "FP64": writer.Write(v.GetValue<double>()); break;
                case "INT64": writer.Write(v.GetValue<long>()); break;
                case "INT32": writer.Write(v.GetValue<int>()); break;
                case "INT16": writer.Write(v.GetValue<short>()); break;
                case "INT8": writer.Write(v.GetValue<sbyte>()); break;
                case "UINT64": writer.Write(v.GetValue<ulong>()); break;
                case "UINT32": writer.Write(v.GetValue<uint>()); break;
                case "UINT16": writer.Write(v.GetValue<ushort>()); break;
                case "UINT8": writer.Write(v.GetValue<byte>()); break;
                case "BOOL": writer.Write(v.GetValue<bool>()); break;
                case "BYTES":
                    var bytes = System.Text.Encoding.UTF8.GetBytes(v.GetValue<string>());
                    writer.Write(bytes.Length);
                    writer.Write(bytes);
                    break;
            }
        }
        writer.Flush();
        return ByteString.CopyFrom(stream.ToArray());
    }

    private static IEnumerable<JsonNode> Flatten(JsonNode? node) => node switch
    {
        JsonArray array => array.SelectMany(Flatten),
        null => [],
        _ => [node],
    };

    private static JsonObject ToJson(ModelInferResponse response)
    {
        var outputs = new JsonArray();
        for (var i = 0; i < response.Outputs.Count; i++)
        {
            var output = response.Outputs[i];
            var data = response.RawOutputContents.Count > i ? FromRaw(output.Datatype, response.RawOutputContents[i].Span) : FromContents(output.Contents);
            outputs.Add(new JsonObject
            {
                ["name"] = output.Name,
                ["datatype"] = output.Datatype,
                ["shape"] = new JsonArray([.. output.Shape.Select(d => (JsonNode)d)]),
                ["data"] = data,
            });
        }
        var json = new JsonObject { ["model_name"] = response.ModelName, ["model_version"] = response.ModelVersion };
        if (response.Id.Length > 0)
        {
            json["id"] = response.Id;
        }
        json["outputs"] = outputs;
        return json;
    }

    private static JsonArray FromContents(InferTensorContents? c) => c is null ? [] : new JsonArray(
    [
        .. c.Fp32Contents.Select(v => (JsonNode)v), .. c.Fp64Contents.Select(v => (JsonNode)v), .. c.Int64Contents.Select(v => (JsonNode)v),
        .. c.IntContents.Select(v => (JsonNode)v), .. c.Uint64Contents.Select(v => (JsonNode)v), .. c.UintContents.Select(v => (JsonNode)v),
        .. c.BoolContents.Select(v => (JsonNode)v), .. c.BytesContents.Select(v => (JsonNode)v.ToStringUtf8()),
    ]);

    private static JsonArray FromRaw(string datatype, ReadOnlySpan<byte> raw)
    {
        var array = new JsonArray();
        var reader = new BinaryReader(new MemoryStream(raw.ToArray()));
        while (reader.BaseStream.Position < reader.BaseStream.Length)
        {
            array.Add(datatype switch
            {
                "FP16" => (JsonNode)(float)reader.ReadHalf(),
                "FP32" => reader.ReadSingle(),
                "FP64" => reader.ReadDouble(),
                "INT64" => reader.ReadInt64(),
                "INT32" => reader.ReadInt32(),
                "INT16" => reader.ReadInt16(),
                "INT8" => reader.ReadSByte(),
                "UINT64" => reader.ReadUInt64(),
                "UINT32" => reader.ReadUInt32(),
                "UINT16" => reader.ReadUInt16(),
                "UINT8" => reader.ReadByte(),
                "BOOL" => reader.ReadBoolean(),
                _ => System.Text.Encoding.UTF8.GetString(reader.ReadBytes(reader.ReadInt32())),
            });
        }
        return array;
    }
}
