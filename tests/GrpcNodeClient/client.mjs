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
  const values = Float32Array.from(valuesText.split(",").map(Number));
  const shape = shapeText.split(",").map(Number);
  const infer = await call("ModelInfer", {
    model_name: model,
    id: "node-1",
    inputs: [{ name: meta.inputs[0].name, datatype: "FP32", shape }],
    raw_input_contents: [Buffer.from(values.buffer)],
  }, true);
  const raw = infer.raw_output_contents[0];
  const scores = Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
  console.log(JSON.stringify({
    live: live.live,
    model: meta.name,
    platform: meta.platform,
    input: meta.inputs[0].name,
    version: infer.model_version,
    id: infer.id,
    output: infer.outputs[0].name,
    shape: infer.outputs[0].shape.map(Number),
    scores,
  }));
} catch (error) {
  console.log(JSON.stringify({ error: error.code, details: error.details }));
  process.exitCode = 1;
} finally {
  client.close();
}
