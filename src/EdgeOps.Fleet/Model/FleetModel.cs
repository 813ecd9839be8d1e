using System.Collections.Immutable;

namespace EdgeOps.Fleet.Model;

/// <summary>A whole fleet as loaded from one revision of the fleet repo. Immutable.</summary>
public sealed record FleetModel(
    FleetSettings Settings,
    ImmutableArray<Cluster> Clusters,
    ImmutableArray<Workload> Workloads,
    ImmutableArray<DeviceConfig> DeviceConfigs,
    ImmutableArray<UpgradePlan> UpgradePlans,
    string? Revision)
{
    public string Name => Settings.Name;

    public Cluster? FindCluster(string name) => Clusters.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));
}
