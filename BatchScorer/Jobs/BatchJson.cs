using System.Text.Json;
using System.Text.Json.Serialization;
using MlPlatform.BatchScorer.Storage;

namespace MlPlatform.BatchScorer.Jobs;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JobSpec))]
[JsonSerializable(typeof(JobManifest))]
[JsonSerializable(typeof(JobFinalState))]
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(JobPage))]
[JsonSerializable(typeof(JobAccepted))]
public sealed partial class BatchJson : JsonSerializerContext;
