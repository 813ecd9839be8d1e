using System.Collections.Immutable;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Rendering;

/// <summary>One object of a cluster's desired state, with the workload or device config it came from.</summary>
public sealed record RenderedObject(ObjectIdentity Id, MappingNode Body, string Owner, string OwnerKind, bool ClusterScoped)
{
    public int Stage => KindOrder.Stage(Id, ClusterScoped);
}

/// <summary>
/// What one cluster should run at one fleet revision: an immutable, deterministically ordered
/// snapshot. Rendering the same fleet for the same cluster and facts gives equal bytes.
/// </summary>
public sealed record DesiredState(
    string Cluster,
    string Fleet,
    string? Revision,
    ImmutableArray<string> Workloads,
    ImmutableArray<string> DeviceConfigs,
    ImmutableArray<string> UpgradePlans,
    ImmutableArray<RenderedObject> Objects)
{
    /// <summary>What the cluster reported about itself when this was rendered (live location, devices, placements); null in CI.</summary>
    public ClusterFacts? Facts { get; init; }

    /// <summary>The objects as a YAML stream, one document each.</summary>
    public string ToYaml() => YamlText.WriteStream(Objects.Select(o => o.Body));
}
