using System.Text.Json;
using MlPlatform.ModelRegistry.Apis;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Model;
using Xunit;
using LoadFailedEvent = MlPlatform.Contracts.RegistryEvent;
using ScorerEvents = MlPlatform.Contracts.RegistryEvents;

namespace MlPlatform.UnitTests.Contracts;

/// <summary>
/// The JSON the services exchange, pinned byte for byte: the registry writes its API bodies and events with the web defaults
/// (ASP.NET Core's and EventPublisher's), the online scorer writes load-failed events with the serializer's defaults. The golden
/// strings were captured from the code before the wire types moved to the Contracts project; a change here breaks a reader in
/// another service (or an old scorer during a rolling upgrade).
/// </summary>
public sealed class WireFormatTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private static readonly DateTimeOffset At = new(2026, 3, 14, 15, 9, 26, 535, TimeSpan.Zero);

    private static ModelSignature Signature() => new(
        [new TensorSpec("input", "FP32", [-1, 4])],
        [new TensorSpec("label", "INT64", [-1]), new TensorSpec("probabilities", "FP32", [-1, 3])]);

    private static ModelVersion Version() => new(
        "iris", 2, "ab12cd", 1234, Signature(), At, "admin", "retrained", new Dictionary<string, string> { ["team"] = "ds" }, false);

    [Fact]
    public void A_model_version_with_signature_and_tags()
    {
        Assert.Equal(
            """{"name":"iris","version":2,"sha256":"ab12cd","sizeBytes":1234,"signature":{"inputs":[{"name":"input","datatype":"FP32","shape":[-1,4]}],"outputs":[{"name":"label","datatype":"INT64","shape":[-1]},{"name":"probabilities","datatype":"FP32","shape":[-1,3]}]},"createdAt":"2026-03-14T15:09:26.535+00:00","createdBy":"admin","description":"retrained","tags":{"team":"ds"},"archived":false}""",
            JsonSerializer.Serialize(Version(), Web));
    }

    [Fact]
    public void A_version_without_description_writes_null()
    {
        var version = Version() with { Description = null, Tags = new Dictionary<string, string>(), Archived = true };
        Assert.Equal(
            """{"name":"iris","version":2,"sha256":"ab12cd","sizeBytes":1234,"signature":{"inputs":[{"name":"input","datatype":"FP32","shape":[-1,4]}],"outputs":[{"name":"label","datatype":"INT64","shape":[-1]},{"name":"probabilities","datatype":"FP32","shape":[-1,3]}]},"createdAt":"2026-03-14T15:09:26.535+00:00","createdBy":"admin","description":null,"tags":{},"archived":true}""",
            JsonSerializer.Serialize(version, Web));
    }

    [Fact]
    public void A_model_with_versions_and_aliases()
    {
        var model = new ModelDetails("iris", At, 2, [Version()], [new AliasInfo("production", 2, null), new AliasInfo("canary", 2, 10)]);
        Assert.Equal(
            """{"name":"iris","createdAt":"2026-03-14T15:09:26.535+00:00","latestVersion":2,"versions":[{"name":"iris","version":2,"sha256":"ab12cd","sizeBytes":1234,"signature":{"inputs":[{"name":"input","datatype":"FP32","shape":[-1,4]}],"outputs":[{"name":"label","datatype":"INT64","shape":[-1]},{"name":"probabilities","datatype":"FP32","shape":[-1,3]}]},"createdAt":"2026-03-14T15:09:26.535+00:00","createdBy":"admin","description":"retrained","tags":{"team":"ds"},"archived":false}],"aliases":[{"name":"production","version":2,"weight":null},{"name":"canary","version":2,"weight":10}]}""",
            JsonSerializer.Serialize(model, Web));
    }

    [Fact]
    public void A_page_of_models()
    {
        var page = new PaginatedItems<ModelSummary>(0, 50, 1, [new ModelSummary("iris", At, 2, [new AliasInfo("production", 2, null)])]);
        Assert.Equal(
            """{"pageIndex":0,"pageSize":50,"count":1,"items":[{"name":"iris","createdAt":"2026-03-14T15:09:26.535+00:00","latestVersion":2,"aliases":[{"name":"production","version":2,"weight":null}]}]}""",
            JsonSerializer.Serialize(page, Web));
    }

    [Fact]
    public void Serving_settings_full_and_default()
    {
        var settings = new ServingSettings(new BatchingSettings(true, 32, 2.5), 2,
            new Dictionary<string, long[]> { ["input"] = [8, 4] }, new ResponseCacheSettings(true));
        Assert.Equal(
            """{"batching":{"enabled":true,"maxBatchSize":32,"maxQueueDelayMs":2.5},"instanceCount":2,"warmupShapes":{"input":[8,4]},"responseCache":{"enabled":true},"payloadLog":null,"quality":null}""",
            JsonSerializer.Serialize(settings, Web));
        Assert.Equal(
            """{"batching":null,"instanceCount":null,"warmupShapes":null,"responseCache":null,"payloadLog":null,"quality":null}""",
            JsonSerializer.Serialize(new ServingSettings(null, null, null, null), Web));
        Assert.Equal(
            """{"batching":{"enabled":false,"maxBatchSize":null,"maxQueueDelayMs":null},"instanceCount":null,"warmupShapes":null,"responseCache":{"enabled":false},"payloadLog":null,"quality":null}""",
            JsonSerializer.Serialize(new ServingSettings(new BatchingSettings(false, null, null), null, null, new ResponseCacheSettings(false)), Web));
    }

    [Fact]
    public void Serving_settings_with_a_payload_log()
    {
        var settings = ServingSettings.Default with { PayloadLog = new PayloadLogSettings(true, 0.1, 4096) };
        Assert.Equal(
            """{"batching":null,"instanceCount":null,"warmupShapes":null,"responseCache":null,"payloadLog":{"enabled":true,"sampleRate":0.1,"maxBytesPerRecord":4096},"quality":null}""",
            JsonSerializer.Serialize(settings, Web));
        // A scorer of the previous release reads settings without the member: it takes the default (no payload log).
        var old = JsonSerializer.Deserialize<ServingSettings>("""{"batching":null,"instanceCount":2,"warmupShapes":null,"responseCache":null}""", Web)!;
        Assert.Null(old.PayloadLog);
        Assert.Equal(2, old.InstanceCount);
    }

    [Fact]
    public void Serving_settings_with_quality_and_the_reports()
    {
        var settings = ServingSettings.Default with { Quality = new QualitySettings("classification", "Score.output", ["setosa", "versicolor"]) };
        Assert.Equal(
            """{"batching":null,"instanceCount":null,"warmupShapes":null,"responseCache":null,"payloadLog":null,"quality":{"task":"classification","output":"Score.output","labels":["setosa","versicolor"]}}""",
            JsonSerializer.Serialize(settings, Web));
        Assert.Equal("""{"accepted":3,"replaced":1,"unknown":0}""", JsonSerializer.Serialize(new FeedbackResult(3, 1, 0), Web));
        var report = new QualityReport("iris", 2, "1h", "classification", "Score.output", new QualityFigures(10, 5, 0.5, 0.8, null, null), 1, null);
        Assert.Equal(
            """{"model":"iris","version":2,"window":"1h","task":"classification","output":"Score.output","figures":{"logged":10,"labelled":5,"coverage":0.5,"accuracy":0.8,"mae":null,"rmse":null},"baselineVersion":1,"baseline":null}""",
            JsonSerializer.Serialize(report, Web));
        // A note (why a labelled window has a null metric) is written only when there is one.
        Assert.Equal("""{"logged":1,"labelled":1,"coverage":1,"accuracy":null,"mae":null,"rmse":null,"note":"why"}""",
            JsonSerializer.Serialize(new QualityFigures(1, 1, 1, null, null, null, "why"), Web));
    }

    [Fact]
    public void A_payload_record_as_the_scorer_writes_it()
    {
        var json = """{"id":"r1","model":"iris","version":1,"route":"production","at":"2026-03-14T15:09:26.535+00:00","latencyMs":1.5,"outcome":"success","status":200,"error":null,"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}],"outputs":null,"truncated":false}""";
        var record = JsonSerializer.Deserialize<PayloadRecord>(json, Web)!;
        Assert.Equal("r1", record.Id);
        Assert.Equal(At, record.At);
        Assert.Equal([1L, 4L], record.Inputs![0].Shape);
        Assert.Equal(json, JsonSerializer.Serialize(record, Web));
    }

    [Fact]
    public void An_alias_history_entry()
    {
        var change = new AliasChange("production", 1, 2, null, At, "alice", "admin", "v2 passed review", AliasChange.KindSet);
        Assert.Equal(
            """{"alias":"production","fromVersion":1,"toVersion":2,"weight":null,"at":"2026-03-14T15:09:26.535+00:00","actor":"alice","role":"admin","reason":"v2 passed review","kind":"set"}""",
            JsonSerializer.Serialize(change, Web));
    }

    [Fact]
    public void A_forced_alias_history_entry_carries_the_differences()
    {
        var change = new AliasChange("production", 1, 2, null, At, "alice", "admin", "new input format", AliasChange.KindSet)
        {
            Forced = true,
            Differences = ["input 'input' removed"],
        };
        Assert.Equal(
            """{"alias":"production","fromVersion":1,"toVersion":2,"weight":null,"at":"2026-03-14T15:09:26.535+00:00","actor":"alice","role":"admin","reason":"new input format","kind":"set","forced":true,"differences":["input \u0027input\u0027 removed"]}""",
            JsonSerializer.Serialize(change, Web));
    }

    [Fact]
    public void The_contract_checks_refusal_as_the_registry_writes_it_and_a_client_reads_it()
    {
        var refusal = new IncompatibleSignatureProblem(IncompatibleSignatureProblem.TitleText, 409, "Version 2 of 'iris' would break requests.", 1,
            ["input 'input' removed", "output 'label' datatype changed from INT64 to FP32"]);
        const string Golden =
            """{"title":"Incompatible signature","status":409,"detail":"Version 2 of \u0027iris\u0027 would break requests.","productionVersion":1,"differences":["input \u0027input\u0027 removed","output \u0027label\u0027 datatype changed from INT64 to FP32"]}""";
        Assert.Equal(Golden, JsonSerializer.Serialize(refusal, Web));
        // The registry answers with a ProblemDetails (problem+json like its other errors): the same members in the same order.
        // Apostrophes are escaped, as ASP.NET Core writes them.
        Assert.Equal(Golden, JsonSerializer.Serialize(ContractCheck.ToProblem(refusal), Web));
        var read = JsonSerializer.Deserialize<IncompatibleSignatureProblem>(Golden, Web)!;
        Assert.Equal((1, 2), (read.ProductionVersion, read.Differences.Count));
    }

    [Fact]
    public void Version_statistics_split_by_outcome_class()
    {
        var report = new VersionStatsReport("iris", 2, "5m", At, At.AddMinutes(5), 100, 3, 0.0375, 1.5, 9.25,
            ClientErrors: 15, Rejected: 5, RoutedRequests: 60, RoutedErrors: 2, RoutedErrorRate: 0.04, RoutedP99Ms: 8);
        Assert.Equal(
            """{"model":"iris","version":2,"window":"5m","from":"2026-03-14T15:09:26.535+00:00","to":"2026-03-14T15:14:26.535+00:00","requests":100,"errors":3,"errorRate":0.0375,"p50Ms":1.5,"p99Ms":9.25,"clientErrors":15,"rejected":5,"routedRequests":60,"routedErrors":2,"routedErrorRate":0.04,"routedP99Ms":8}""",
            JsonSerializer.Serialize(report, Web));
    }

    [Fact]
    public void An_alias_changed_event()
    {
        Assert.Equal(
            """{"type":"alias-changed","model":"iris","alias":"canary","version":3,"previousVersion":2,"weight":10,"sha256":"ab12cd","at":"2026-03-14T15:09:26.535+00:00"}""",
            JsonSerializer.Serialize(new AliasChangedEvent("iris", "canary", 3, 2, 10, "ab12cd", At), Web));
        Assert.Equal(
            """{"type":"alias-changed","model":"iris","alias":"canary","version":null,"previousVersion":3,"weight":null,"sha256":null,"at":"2026-03-14T15:09:26.535+00:00"}""",
            JsonSerializer.Serialize(new AliasChangedEvent("iris", "canary", null, 3, null, null, At), Web));
    }

    [Fact]
    public void A_serving_changed_event()
    {
        Assert.Equal(
            """{"type":"serving-changed","model":"iris","at":"2026-03-14T15:09:26.535+00:00"}""",
            JsonSerializer.Serialize(new ServingChangedEvent("iris", At), Web));
    }

    [Fact]
    public void A_pin_changed_event_and_the_pins_a_scorer_reads()
    {
        var json = JsonSerializer.Serialize(new PinChangedEvent("iris", 3, true, At), Web);
        Assert.Equal("""{"type":"pin-changed","model":"iris","version":3,"pinned":true,"at":"2026-03-14T15:09:26.535+00:00"}""", json);
        var read = JsonSerializer.Deserialize<LoadFailedEvent>(json)!;
        Assert.Equal((ScorerEvents.PinChanged, "iris", 3), (read.Type, read.Model, read.Version));
        IReadOnlyList<VersionPin> pins = [new VersionPin(3, At, "operator")];
        var pinsJson = JsonSerializer.Serialize(pins, Web);
        Assert.Equal("""[{"version":3,"pinnedAt":"2026-03-14T15:09:26.535+00:00","pinnedBy":"operator"}]""", pinsJson);
        Assert.Equal(pins, JsonSerializer.Deserialize<List<VersionPin>>(pinsJson, Web));
    }

    [Fact]
    public void A_load_failed_event_as_the_scorer_writes_it()
    {
        var failed = new LoadFailedEvent(ScorerEvents.LoadFailed, "iris", Version: 2, Sha256: "ab12cd", Reason: "bad artifact", At: At);
        Assert.Equal(
            """{"type":"load-failed","model":"iris","alias":null,"version":2,"previousVersion":null,"weight":null,"sha256":"ab12cd","reason":"bad artifact","at":"2026-03-14T15:09:26.535+00:00"}""",
            JsonSerializer.Serialize(failed));
    }

    [Fact]
    public void The_scorers_read_what_the_registry_writes()
    {
        var json = JsonSerializer.Serialize(new AliasChangedEvent("iris", "production", 2, 1, null, "ab12cd", At), Web);
        var read = JsonSerializer.Deserialize<LoadFailedEvent>(json)!;
        Assert.Equal((ScorerEvents.AliasChanged, "iris", "production", 2, 1, "ab12cd", At),
            (read.Type, read.Model, read.Alias, read.Version, read.PreviousVersion, read.Sha256, read.At));
    }
}
