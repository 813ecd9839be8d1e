using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeOps.Reconciler.Status;

// The wire format between agents, the collector and the operator's CLI (collector API v1). Compact on purpose:
// an agent sends one report per heartbeat over links billed by the byte.

/// <summary>Where a cluster stands in the rollout of one revision: its wave and batch, and what the planner decided.</summary>
public sealed record RolloutPosition
{
    public required string Revision { get; init; }

    public int Wave { get; init; }

    public string WaveName { get; init; } = string.Empty;

    public int WaveSize { get; init; }

    public int Batch { get; init; }

    public int BatchSize { get; init; }

    /// <summary>Proceed, Wait or Halted.</summary>
    public string Verdict { get; init; } = string.Empty;

    public string? Reason { get; init; }

    /// <summary>When the agent expects to proceed, if it knows.</summary>
    public DateTimeOffset? Until { get; init; }
}

/// <summary>
/// One signed status report as an agent sends it to the collector (<c>POST /v1/reports</c>): the body is this JSON,
/// the <c>Signature</c> header an SSHSIG (namespace <c>edgeops-report</c>) over exactly those bytes, made with the key
/// its Cluster object lists as <c>spec.reportKey</c>. <see cref="Sequence"/> only grows (milliseconds since the epoch,
/// or one more than the last), so the collector refuses a replayed or reordered report.
/// </summary>
public sealed record AgentReport
{
    public required string Cluster { get; init; }

    [JsonPropertyName("seq")]
    public long Sequence { get; init; }

    public DateTimeOffset Time { get; init; }

    public string? Applied { get; init; }

    /// <summary>The revision the last pass tried, when it is not the applied one (left out otherwise, to save bytes).</summary>
    public string? Attempted { get; init; }

    /// <summary>
    /// A revision that failed on this cluster and that it will not try again (until the repo moves past it): the
    /// failure stays counted against that revision's rollout after the passes that follow report success.
    /// </summary>
    public string? Failed { get; init; }

    public required string Outcome { get; init; }

    public string? Message { get; init; }

    /// <summary>The cluster runs its applied revision healthily (the last pass applied, kept or is waiting; nothing failed).</summary>
    public bool Healthy { get; init; }

    public RolloutPosition? Rollout { get; init; }

    /// <summary>Open or closed: the cluster's maintenance window now, if it has one.</summary>
    public string? Window { get; init; }

    /// <summary>The upgrade under way or last finished: "plan phase".</summary>
    public string? Upgrade { get; init; }

    public DateTimeOffset? OfflineSince { get; init; }

    /// <summary>Where the cluster is (its live position when it has one, else its declared one), for the fleet map.</summary>
    public double? Lat { get; init; }

    public double? Lon { get; init; }

    /// <summary>The same report with its time and sequence left out: two reports that differ only there say the same.</summary>
    public AgentReport Essence() => this with { Sequence = 0, Time = default };
}

/// <summary>
/// The collector's answer to a report: which of the revisions it named are halted (the agent rolls back from those),
/// and the gates of the rollout it is part of, so that a waiting agent learns them without asking again.
/// </summary>
public sealed record ReportReceipt(ImmutableArray<string> Halted, RolloutStatus? Rollout = null);

/// <summary>One cluster as <c>GET /v1/clusters</c> lists it: its last report, when it arrived, and whether that is stale.</summary>
public sealed record ClusterRow
{
    public required string Cluster { get; init; }

    public ImmutableDictionary<string, string> Labels { get; init; } = ImmutableDictionary<string, string>.Empty;

    public string Wave { get; init; } = string.Empty;

    public DateTimeOffset? ReceivedAt { get; init; }

    public bool Stale { get; init; }

    /// <summary>No report yet: the cluster is in the fleet repo but has never reported.</summary>
    public bool Silent { get; init; }

    public AgentReport? Report { get; init; }

    /// <summary>Where the cluster is: its reported position, else the location its Cluster object declares.</summary>
    public double? Lat { get; init; }

    public double? Lon { get; init; }
}

/// <summary>One wave of one revision's rollout (<c>GET /v1/rollouts/{revision}</c>).</summary>
public sealed record WaveStatus
{
    public required string Name { get; init; }

    public int Index { get; init; }

    public int Total { get; init; }

    public int Applied { get; init; }

    public int Healthy { get; init; }

    public int Failed { get; init; }

    public int Waiting { get; init; }

    public int Stale { get; init; }

    /// <summary>pending (an earlier wave has not passed), open, passed or halted.</summary>
    public required string Gate { get; init; }

    public DateTimeOffset? OpenedAt { get; init; }

    public DateTimeOffset? PassedAt { get; init; }

    /// <summary>Leading batches of the wave whose clusters all applied the revision healthily.</summary>
    public int BatchesPassed { get; init; }

    public string? MaxFailures { get; init; }
}

/// <summary>The rollout of one revision across the fleet, wave by wave; halted by the operator or by a wave's failures.</summary>
public sealed record RolloutStatus
{
    public required string Revision { get; init; }

    public bool Halted { get; init; }

    public string? HaltReason { get; init; }

    public DateTimeOffset? HaltedAt { get; init; }

    public ImmutableArray<WaveStatus> Waves { get; init; } = [];
}

/// <summary>Body of <c>POST /v1/rollouts/{revision}/halt</c>.</summary>
public sealed record HaltRequest(string? Reason);

/// <summary>A problem as the collector's API reports it (RFC 7807 fields that matter here).</summary>
public sealed record ApiProblem(string Title, int Status, string? Detail);

/// <summary>A signed report waiting in the agent's outbox: the exact bytes signed, and the signature.</summary>
public sealed record OutboxEntry(long Sequence, string Body, string Signature);

/// <summary>Collector API payloads: camelCase, compact, defaults (null, 0, false) left out; source-generated for the NativeAOT agent.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(AgentReport))]
[JsonSerializable(typeof(ReportReceipt))]
[JsonSerializable(typeof(ClusterRow))]
[JsonSerializable(typeof(List<ClusterRow>))]
[JsonSerializable(typeof(RolloutStatus))]
[JsonSerializable(typeof(List<RolloutStatus>))]
[JsonSerializable(typeof(HaltRequest))]
[JsonSerializable(typeof(ApiProblem))]
[JsonSerializable(typeof(OutboxEntry))]
public sealed partial class CollectorJson : JsonSerializerContext;
