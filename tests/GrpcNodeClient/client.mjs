// Calls the gateway's gRPC port as any Open Inference Protocol client would: ServerLive, ModelMetadata, then ModelInfer with
// raw_input_contents (FP32), and prints what came back as one JSON line. The service definition is the repository's .proto,
// loaded at run time; no generated code of ours is involved.
//   node client.mjs <host:port> <api key> <model> <comma-separated FP32 values> <comma-separated shape>
import { fileURLToPath } from "node:url";
import path from "node:path";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const [address, apiKey, model, valuesText, shapeText] = process.argv.slice(2);
const protoPath = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "GrpcContracts", "Protos", "grpc_service.proto");
const definition = protoLoader.loadSync(protoPath, { keepCase: true, longs: String, defaults: true });
const inference = grpc.loadPackageDefinition(definition).inference;
const client = new inference.GRPCInferenceService(address, grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
metadata.add("authorization", `Bearer ${apiKey}`);

const call = (method, request, withKey) =>
  new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + 30_000);
    const callback = (error, response) => (error ? reject(error) : resolve(response));
    if (withKey) {
      client[method](request, metadata, { deadline }, callback);
    } else {
      client[method](request, { deadline }, callback);
    }
  });

try {
  const live = await call("ServerLive", {}, false);
  const meta = await call("ModelMetadata", { name: model }, true);
  const inputValues = Float32Array.from(valuesText.split(",").map(Number));
  const shape = shapeText.split(",").map(Number);
  const infer = await call("ModelInfer", {
    model_name: model,
    id: "node-1",
    inputs: [{ name: meta.inputs[0].name, datatype: "FP32", shape }],
    raw_input_contents: [Buffer.from(inputValues.buffer)],
  }, true);
  // The first output, read as its datatype says (raw contents are little-endian, row-major); BYTES and FP16 are shown as bytes.
  const raw = infer.raw_output_contents[0];
  const bytes = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  const views = { FP32: Float32Array, FP64: Float64Array, INT8: Int8Array, UINT8: Uint8Array, INT16: Int16Array, UINT16: Uint16Array,
    INT32: Int32Array, UINT32: Uint32Array, INT64: BigInt64Array, UINT64: BigUint64Array, BOOL: Uint8Array };
  const View = views[infer.outputs[0].datatype] ?? Uint8Array;
  const values = Array.from(new View(bytes), v => (typeof v === "bigint" ? Number(v) : v));
  console.log(JSON.stringify({
    live: live.live,
    model: meta.name,
    platform: meta.platform,
    input: meta.inputs[0].name,
    version: infer.model_version,
    id: infer.id,
    output: infer.outputs[0].name,
    datatype: infer.outputs[0].datatype,
    shape: infer.outputs[0].shape.map(Number),
    values,
  }));
} catch (error) {
  console.log(JSON.stringify({ error: error.code, details: error.details }));
  process.exitCode = 1;
} finally {
  client.close();
}
