using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Serialization;
using EdgeOps.Reconciler.Transactions;
using EdgeOps.Reconciler.Upgrades;

namespace EdgeOps.Reconciler.Status;

public sealed record StatusCondition(string Type, string Status, string Reason, string Message);

public sealed record FailedObject(string Object, string Reason, string? Location);

/// <summary>How reporting to the fleet's collector goes.</summary>
public sealed record CollectorReporting(string Url, DateTimeOffset? UnreachableSince, int Pending, int Dropped, string? LastError, string? LastRefused);

/// <summary>One BlueGreen workload in a status report.</summary>
public sealed record SwitchOverStatus(string Workload, string Active, string Serving, string? SwitchingTo, string? Step, double? LastSwitchSeconds, double? LastHandoffGapSeconds)
{
    public static SwitchOverStatus From(SwitchOver.SwitchOverRecord r) =>
        new(r.Workload, r.Active, r.Serving, r.Pending?.To, r.Pending?.Step.ToString(), r.LastSwitchSeconds, r.LastHandoffGapSeconds);
}

/// <summary>
/// The compact status of one cluster after a pass: what it runs, what it last tried, why it is not
/// further, and how the pass went. Written as status.json in the state folder (for
/// <c>edgeops status</c>) and into the cluster.
/// </summary>
public sealed record StatusReport
{
    public const string Schema = "edgeops.io/status-report/v1";

    [JsonPropertyName("schema")]
    public string SchemaName { get; init; } = Schema;

    public required string Cluster { get; init; }

    public required string Repository { get; init; }

    public string? AppliedRevision { get; init; }

    public string? LastAttemptedRevision { get; init; }

    public required string Outcome { get; init; }

    public required string Message { get; init; }

    public ImmutableArray<StatusCondition> Conditions { get; init; } = [];

    public ImmutableArray<string> Violations { get; init; } = [];

    public ImmutableArray<FailedObject> FailedObjects { get; init; } = [];

    /// <summary>Objects whose drift (changes by other field managers) this pass took back, with who made them.</summary>
    public ImmutableArray<string> DriftCorrected { get; init; } = [];

    public IReadOnlyDictionary<string, int> Counts { get; init; } = new Dictionary<string, int>();

    public double DurationSeconds { get; init; }

    public DateTimeOffset Time { get; init; }

    public DateTimeOffset? LastSuccessfulSync { get; init; }

    public DateTimeOffset? OfflineSince { get; init; }

    /// <summary>The OS/firmware upgrade under way or last finished: plan, phase, versions, slots and phase times.</summary>
    public UpgradeStatus? Upgrade { get; init; }

    /// <summary>The live position (rounded), its source and fix, and the placements decided from it.</summary>
    public Location.LocationStatus? Location { get; init; }

    /// <summary>Where this cluster stands in the rollout of the revision it was offered (wave, batch, verdict, reason, until).</summary>
    public RolloutPosition? Rollout { get; init; }

    /// <summary>Reporting to the collector, as of the last send: reachable or since when not, reports waiting, the last refusal.</summary>
    public CollectorReporting? Collector { get; init; }

    /// <summary>BlueGreen workloads: the active and serving slot, a switch under way, and the last switch's timings.</summary>
    public ImmutableArray<SwitchOverStatus> SwitchOvers { get; init; } = [];

    /// <summary>Set on a copy whose lists were cut to fit where it is published (the cluster's ConfigMap): what was left out and where the whole is.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Abridged { get; init; }

    /// <summary>
    /// This report with at most <paramref name="keep"/> failed objects, violations and corrected drifts, and
    /// <see cref="Abridged"/> saying how many there are: for a pass that failed thousands of objects, whose full
    /// report would not fit in a ConfigMap.
    /// </summary>
    public StatusReport Abridge(int keep) => this with
    {
        FailedObjects = [.. FailedObjects.Take(keep)],
        Violations = [.. Violations.Take(keep)],
        DriftCorrected = [.. DriftCorrected.Take(keep)],
        Message = Message.Length <= 4096 ? Message : Message[..4095] + "…",
        Abridged = $"{FailedObjects.Length} failed objects, {Violations.Length} violations and {DriftCorrected.Length} corrected drifts: the first {keep} of each are listed here, all of them in status.json in the agent's state folder",
    };

    /// <summary>The report of a pass: conditions as Flux writes them (Ready, Reconciling, Stalled).</summary>
    public static StatusReport For(
        string cluster,
        string repository,
        ReconcilerState state,
        string outcome,
        string message,
        string? attempted,
        IReadOnlyList<string> violations,
        IReadOnlyList<FailedObject> failed,
        ChangeSet? changes,
        double durationSeconds,
        DateTimeOffset time,
        IReadOnlyList<string> drift,
        UpgradeStatus? upgrade = null,
        Location.LocationStatus? location = null,
        IReadOnlyList<SwitchOverStatus>? switchOvers = null)
    {
        var ok = outcome is nameof(PassOutcome.Applied) or nameof(PassOutcome.Unchanged) && failed.Count == 0;
        var waiting = outcome is nameof(PassOutcome.Waiting);
        var stalled = outcome is nameof(PassOutcome.Invalid) or nameof(PassOutcome.Refused);
        return new StatusReport
        {
            Cluster = cluster,
            Repository = repository,
            AppliedRevision = state.AppliedRevision,
            LastAttemptedRevision = attempted,
            Outcome = outcome,
            Message = message,
            Conditions =
            [
                new StatusCondition("Ready", (ok || waiting) && state.OfflineSince is null && state.AppliedRevision is not null ? "True" : "False", outcome, message),
                new StatusCondition("Reconciling", waiting ? "True" : "False", waiting ? "Waiting" : "PassFinished", message),
                new StatusCondition("Stalled", stalled ? "True" : "False", stalled ? outcome : "None", stalled ? message : string.Empty),
            ],
            Violations = [.. violations],
            FailedObjects = [.. failed],
            DriftCorrected = [.. drift],
            Counts = changes is null ? new Dictionary<string, int>() : Enum.GetValues<ChangeAction>().ToDictionary(a => a.ToString().ToLowerInvariant(), changes.Count),
            DurationSeconds = durationSeconds,
            Time = time,
            LastSuccessfulSync = state.LastSuccessfulSync,
            OfflineSince = state.OfflineSince,
            Upgrade = upgrade,
            Location = location,
            SwitchOvers = [.. switchOvers ?? []],
        };
    }

    public string ToJson() => JsonSerializer.Serialize(this, StatusJson.Default.StatusReport);

    /// <summary>Reads a report; null when the file is not a status report at all (another JSON file).</summary>
    /// <exception cref="InvalidDataException">The file claims to be a report but cannot be read as one.</exception>
    public static StatusReport? Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read the status report: {ex.Message}", ex);
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("schema", out var schema)
                || schema.ValueKind != JsonValueKind.String
                || schema.GetString() != Schema)
            {
                return null;
            }

            var report = JsonSerializer.Deserialize(text, StatusJson.Default.StatusReport);
            return report is { Cluster: not null, Outcome: not null }
                ? Normalized(report)
                : throw new InvalidDataException($"{path}: the status report lacks its cluster or outcome");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: the status report is malformed: {Fleet.Diagnostics.JsonErrors.Describe(ex)}", ex);
        }
    }

    /// <summary>
    /// A report from an older agent may lack lists added since; the source-generated reader sets an absent
    /// init-only member to its type's default (an uninitialised array), so they are made empty here.
    /// </summary>
    private static StatusReport Normalized(StatusReport report) => report with
    {
        Conditions = report.Conditions.IsDefault ? [] : report.Conditions,
        Violations = report.Violations.IsDefault ? [] : report.Violations,
        FailedObjects = report.FailedObjects.IsDefault ? [] : report.FailedObjects,
        DriftCorrected = report.DriftCorrected.IsDefault ? [] : report.DriftCorrected,
        SwitchOvers = report.SwitchOvers.IsDefault ? [] : report.SwitchOvers,
        Counts = report.Counts ?? new Dictionary<string, int>(),
    };

    public void Save(string directory) => DurableFile.WriteAllBytes(Path.Combine(directory, "status.json"), System.Text.Encoding.UTF8.GetBytes(ToJson()));
}
