using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Model;

public static class FleetApi
{
    public const string Group = "edgeops.io";
    public const string Version = "v1alpha1";
    public const string ApiVersion = Group + "/" + Version;

    public const string FleetKind = "Fleet";
    public const string ClusterKind = "Cluster";
    public const string WorkloadKind = "Workload";
    public const string DeviceConfigKind = "DeviceConfig";
    public const string UpgradePlanKind = "UpgradePlan";

    public const string PolicyTestKind = "PolicyTest";

    public static readonly ImmutableArray<string> Kinds = [FleetKind, ClusterKind, WorkloadKind, DeviceConfigKind, UpgradePlanKind];

    public const string WorkloadLabel = "edgeops.io/workload";
    public const string FleetLabel = "edgeops.io/fleet";
    public const string DeviceConfigLabel = "edgeops.io/device-config";
}

/// <summary>metadata of an EdgeOps object.</summary>
public sealed record ObjectMeta(Located<string> Name, ImmutableSortedDictionary<string, string> Labels, SourceLocation LabelsLocation);

/// <summary>Any EdgeOps object: its kind, metadata and where its document starts.</summary>
public abstract record FleetObject(ObjectMeta Metadata, SourceLocation Location)
{
    public abstract string Kind { get; }

    public string Name => Metadata.Name.Value;
}

public enum Enforcement
{
    Deny,
    Warn,
}

public sealed record PolicySettings(
    ImmutableArray<Located<string>> Paths,
    ImmutableArray<Located<string>> BuiltIn,
    Enforcement Enforcement,
    MappingNode? Limits,
    MappingNode? Parameters)
{
    public static readonly PolicySettings Default = new([], [], Enforcement.Deny, null, null);

    public bool Any => !Paths.IsEmpty || !BuiltIn.IsEmpty;
}

public sealed record SigstoreIdentity(string Issuer, string Subject, bool SubjectIsRegex, SourceLocation Location);

/// <summary>
/// <c>spec.trust</c>: how revisions must be signed (SSH keys of an allowed_signers file, or a Sigstore bundle
/// by one of the Sigstore identities) and whom upgrade artifacts must be signed by.
/// </summary>
public sealed record TrustSettings(
    Located<string>? AllowedSigners,
    ImmutableArray<SigstoreIdentity> SigstoreIdentities,
    Located<string>? TrustedRoot,
    bool RequireSignedRevisions,
    bool SigstoreSignedRevisions = false,
    SourceLocation CommitsLocation = default)
{
    public static readonly TrustSettings Default = new(null, [], null, false);
}

/// <summary>What opens a wave after the first: the collector's health gate (the previous wave applied and healthy), or only time (<c>pause</c> after the previous wave opened).</summary>
public enum RolloutGateKind
{
    Health,
    Time,
}

/// <summary>How many failed clusters a wave tolerates before its rollout halts: a count, or a percent of the wave.</summary>
public sealed record FailureBudget(int Value, bool Percent)
{
    public int For(int waveSize) => Percent ? waveSize * Value / 100 : Value;

    /// <summary>True when <paramref name="failures"/> exceed the budget (the gate closes).</summary>
    public bool IsExceeded(int failures, int waveSize) => failures > For(waveSize);

    public override string ToString() => Percent ? $"{Value}%" : Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public sealed record RolloutWave(string Name, LabelSelector Selector, int? MaxUnavailablePercent, TimeSpan? Pause, SourceLocation Location, RolloutGateKind Gate = RolloutGateKind.Health, FailureBudget? MaxFailures = null);

/// <summary>
/// <c>spec.rollout</c>: waves in order; <c>maxFailures</c> (default 0: any failure halts) applies to every wave that
/// does not set its own; with <c>respectMaintenanceWindow</c> a cluster takes a new revision only inside its window.
/// </summary>
public sealed record RolloutSpec(ImmutableArray<RolloutWave> Waves, int MaxUnavailablePercent, SourceLocation Location, FailureBudget? MaxFailures = null, bool RespectMaintenanceWindow = false)
{
    public FailureBudget FailuresAllowed(int wave) => (wave < Waves.Length ? Waves[wave].MaxFailures : null) ?? MaxFailures ?? new FailureBudget(0, false);

    public static readonly RolloutSpec Default = new([], 100, SourceLocation.None);
}

public sealed record FleetDefaults(
    TimeSpan SyncInterval,
    TimeSpan HealthTimeout,
    RolloutSpec Rollout,
    string DeviceNamespace)
{
    public static readonly FleetDefaults Default = new(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5), RolloutSpec.Default, "akri");
}

/// <summary>The fleet-wide settings (kind Fleet, one per repo).</summary>
public sealed record FleetSettings(
    ObjectMeta Metadata,
    SourceLocation Location,
    PolicySettings Policies,
    TrustSettings Trust,
    FleetDefaults Defaults) : FleetObject(Metadata, Location)
{
    public override string Kind => FleetApi.FleetKind;
}

public sealed record ClusterCapacity(Quantity? Cpu, Quantity? Memory, Quantity? Storage);

public sealed record ClusterCost(double? CpuHour, double? MemoryGiBHour, double? EgressGiB, double? MonthlyBudget, string Currency);

public sealed record ClusterNetwork(bool Metered, long? BandwidthKbps);

public sealed record DeviceCount(Located<string> Class, int Count);

public sealed record MaintenanceWindow(Located<string> Schedule, TimeSpan Duration, Located<string> TimeZone);

/// <summary>One edge cluster and its facts.</summary>
public sealed record Cluster(
    ObjectMeta Metadata,
    SourceLocation Location,
    GeoPoint? GeoLocation,
    ClusterCapacity? Capacity,
    ClusterCost? Cost,
    ClusterNetwork? Network,
    ImmutableArray<DeviceCount> Devices,
    MaintenanceWindow? MaintenanceWindow,
    MappingNode Values) : FleetObject(Metadata, Location)
{
    public override string Kind => FleetApi.ClusterKind;

    /// <summary>The public key (OpenSSH Ed25519) the cluster's agent signs its status reports with: the fleet repo is the registry of who may report as whom.</summary>
    public Located<string>? ReportKey { get; init; }

    /// <summary>API groups or group/versions the cluster serves beyond Kubernetes' own (k3s's helm.cattle.io, an Akri install's akri.sh …).</summary>
    public ImmutableArray<string> Apis { get; init; } = [];

    public ImmutableSortedDictionary<string, string> Labels => Metadata.Labels;
}

/// <summary>Where a workload, device config or upgrade may run. Every part present must hold.</summary>
public sealed record Placement(
    LabelSelector? ClusterSelector,
    GeoCircle? Within,
    GeoFence? Geofence,
    ImmutableArray<DeviceCount> RequiredDevices,
    SourceLocation Location,
    double? MarginMetres = null,
    TimeSpan? DwellTime = null)
{
    public const double DefaultMarginMetres = 50;

    public static readonly TimeSpan DefaultDwell = TimeSpan.FromMinutes(2);

    public static readonly Placement Everywhere = new(null, null, null, [], SourceLocation.None);

    public bool HasLocationConstraint => Within is not null || Geofence is not null;

    /// <summary>How far past the edge a live position must be before the decision changes (location.margin).</summary>
    public double Margin => MarginMetres ?? DefaultMarginMetres;

    /// <summary>How long it must stay there first (location.dwell).</summary>
    public TimeSpan Dwell => DwellTime ?? DefaultDwell;
}

/// <summary>Which rendered objects a patch applies to; absent fields match anything.</summary>
public sealed record PatchTarget(string? Group, string? Version, string? Kind, string? Name, string? Namespace, SourceLocation Location);

public enum PatchType
{
    /// <summary>RFC 7386 JSON merge patch.</summary>
    Merge,

    /// <summary>RFC 6902 JSON patch.</summary>
    Json,
}

public sealed record Patch(PatchTarget Target, PatchType Type, Node Body, SourceLocation Location);

public sealed record Overlay(string Name, LabelSelector Selector, ImmutableArray<Patch> Patches, SourceLocation Location);

public enum UpgradeStrategyType
{
    Rolling,
    BlueGreen,
}

/// <summary>
/// How a workload's new version replaces the old. BlueGreen with <see cref="PreInitialize"/> starts the new copy
/// beside the old, waits until it is pre-initialised (<see cref="PreInitializedWhen"/>, by default its readiness),
/// then switches the Services in one step and keeps the old copy warm for <see cref="BlueRetention"/>.
/// </summary>
public sealed record UpgradeStrategy(
    UpgradeStrategyType Type,
    bool PreInitialize,
    SourceLocation Location,
    PreInitializedCondition? PreInitializedWhen = null,
    TimeSpan? BlueRetention = null)
{
    public static readonly TimeSpan DefaultBlueRetention = TimeSpan.FromMinutes(10);

    public bool IsSwitchOver => Type == UpgradeStrategyType.BlueGreen && PreInitialize;
}

/// <summary>When a green copy counts as pre-initialised: every pod carries an annotation value, a named container is ready, or an HTTP GET on each pod answers 2xx.</summary>
public sealed record PreInitializedCondition(string? Annotation, string AnnotationValue, string? ContainerReady, string? HttpPath, int? HttpPort);

/// <summary>A Kubernetes object as written in a workload's manifest files.</summary>
public sealed record Manifest(MappingNode Body, string File, int DocumentIndex, bool HasVariables)
{
    public SourceLocation Location => Body.Location;
}

/// <summary>A workload: plain Kubernetes manifests and where they may run.</summary>
public sealed record Workload(
    ObjectMeta Metadata,
    SourceLocation Location,
    string Directory,
    ImmutableArray<Located<string>> ManifestPaths,
    ImmutableArray<Manifest> Manifests,
    string? Namespace,
    Placement Placement,
    MappingNode Values,
    ImmutableArray<Overlay> Overlays,
    ImmutableArray<Located<string>> DependsOn,
    RolloutSpec? Rollout,
    UpgradeStrategy? UpgradeStrategy,
    ComponentRequirement? Requires = null) : FleetObject(Metadata, Location)
{
    public override string Kind => FleetApi.WorkloadKind;
}

/// <summary>A workload that runs only on a component version (<c>requires: {component: os, version: "&gt;=2026.11"}</c>).</summary>
public sealed record ComponentRequirement(UpgradeComponent Component, VersionConstraint Version, SourceLocation Location)
{
    public override string ToString() => $"{Component.ToString().ToLowerInvariant()} {Version}";
}

public sealed record Discovery(Located<string> Handler, MappingNode Details, bool Shared);

public sealed record BrokerSpec(string Type, MappingNode Spec);

/// <summary>Device discovery and brokering (Akri-style) for a class of devices.</summary>
public sealed record DeviceConfig(
    ObjectMeta Metadata,
    SourceLocation Location,
    string DeviceClass,
    string? Namespace,
    Placement Placement,
    Discovery Discovery,
    int Capacity,
    BrokerSpec? Broker,
    MappingNode? InstanceService,
    MappingNode? ConfigurationService,
    MappingNode? BrokerProperties) : FleetObject(Metadata, Location)
{
    public override string Kind => FleetApi.DeviceConfigKind;
}

public enum UpgradeComponent
{
    Os,
    Firmware,
    K3s,
}

public sealed record Artifact(Located<string> Url, Located<string> Digest, long? Size, Located<string>? Bundle);

/// <summary>How the agent fetches an artifact: a bandwidth cap (null: the cluster's network.bandwidthKbps) and retries.</summary>
public sealed record DownloadSpec(long? MaxKbps, int Retries)
{
    public static readonly DownloadSpec Default = new(null, 5);
}

public sealed record SlotSpec(string Backend, string? Device, SourceLocation Location);

/// <summary>
/// One check of an upgrade's health gate, of one type: <c>http</c> (a GET answering <see cref="ExpectStatus"/>),
/// <c>exec</c> (a command exiting 0), or <c>kubernetes</c> (this node Ready, and/or every object this agent
/// applied healthy). It must pass within <see cref="Timeout"/> of the trial boot.
/// </summary>
public sealed record HealthCheck(
    string Name,
    string Type,
    TimeSpan Timeout,
    SourceLocation Location,
    string? Url = null,
    int ExpectStatus = 200,
    ImmutableArray<string> Command = default,
    bool NodeReady = false,
    bool WorkloadsHealthy = false);

/// <summary>An OS, firmware or k3s upgrade with A/B slots, staged in maintenance windows.</summary>
public sealed record UpgradePlan(
    ObjectMeta Metadata,
    SourceLocation Location,
    UpgradeComponent Component,
    string Version,
    Placement Placement,
    Artifact Artifact,
    SlotSpec Slots,
    ImmutableArray<HealthCheck> HealthChecks,
    TimeSpan CommitAfter,
    RolloutSpec? Rollout,
    bool RespectMaintenanceWindow,
    DownloadSpec? Download = null) : FleetObject(Metadata, Location)
{
    public override string Kind => FleetApi.UpgradePlanKind;

    public string ComponentName => Component.ToString().ToLowerInvariant();
}
