using System.Collections.Immutable;
using System.Globalization;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Policy.Evaluation;

/// <summary>Builds the <c>ctx.cluster</c>, <c>ctx.workload</c> and <c>ctx.fleet</c> data policies see.</summary>
public static class PolicyContexts
{
    private static readonly SourceLocation Nowhere = SourceLocation.None;

    public static MappingNode Cluster(Cluster cluster, ClusterFacts? facts = null)
    {
        var location = facts?.Location ?? cluster.GeoLocation;
        var devices = facts?.Devices is { } discovered
            ? discovered.Select(d => (d.Key, d.Value))
            : cluster.Devices.GroupBy(d => d.Class.Value, StringComparer.Ordinal).Select(g => (g.Key, g.Sum(d => d.Count)));
        var capacity = cluster.Capacity;
        var cost = cluster.Cost;
        var network = cluster.Network;
        return Map(
            ("name", Str(cluster.Name)),
            ("labels", Labels(cluster.Labels)),
            ("location", location is { } at ? Map(("lat", Num(at.Lat)), ("lon", Num(at.Lon))) : Null()),
            ("capacity", capacity is null ? Null() : Map(
                ("cpu", capacity.Cpu is { } cpu ? Str(cpu.Text) : Null()),
                ("memory", capacity.Memory is { } memory ? Str(memory.Text) : Null()),
                ("storage", capacity.Storage is { } storage ? Str(storage.Text) : Null()))),
            ("cost", cost is null ? Null() : Map(
                ("cpuHour", NumOrNull(cost.CpuHour)),
                ("memoryGiBHour", NumOrNull(cost.MemoryGiBHour)),
                ("egressGiB", NumOrNull(cost.EgressGiB)),
                ("monthlyBudget", NumOrNull(cost.MonthlyBudget)),
                ("currency", Str(cost.Currency)))),
            ("network", network is null ? Null() : Map(
                ("metered", ScalarNode.Bool(network.Metered, Nowhere)),
                ("bandwidthKbps", network.BandwidthKbps is { } kbps ? ScalarNode.Int(kbps, Nowhere) : Null()))),
            ("devices", Map([.. devices.OrderBy(d => d.Item1, StringComparer.Ordinal).Select(d => (d.Item1, (Node)ScalarNode.Int(d.Item2, Nowhere)))])),
            ("values", cluster.Values),
            ("facts", Facts(facts)));
    }

    /// <summary>
    /// What the cluster reported about itself at run time (live location, discovered devices, and the placements the
    /// agent decided from the live location with the fleet's margin and dwell, keyed Kind/name); empty in CI.
    /// </summary>
    private static MappingNode Facts(ClusterFacts? facts)
    {
        if (facts is null || facts == ClusterFacts.None)
        {
            return Map();
        }

        return Map(
            ("location", facts.Location is { } at ? Map(("lat", Num(at.Lat)), ("lon", Num(at.Lon))) : Null()),
            ("devices", facts.Devices is { } devices
                ? Map([.. devices.Select(d => (d.Key, (Node)ScalarNode.Int(d.Value, Nowhere)))])
                : Null()),
            ("placement", facts.LocationDecisions is { } placed
                ? Map([.. placed.Select(d => (d.Key, (Node)ScalarNode.Bool(d.Value, Nowhere)))])
                : Null()));
    }

    public static MappingNode Workload(Workload workload) => Map(
        ("kind", Str(FleetApi.WorkloadKind)),
        ("name", Str(workload.Name)),
        ("namespace", workload.Namespace is null ? Null() : Str(workload.Namespace)),
        ("labels", Labels(workload.Metadata.Labels)),
        ("placement", Placement(workload.Placement)));

    public static MappingNode DeviceConfig(DeviceConfig config) => Map(
        ("kind", Str(FleetApi.DeviceConfigKind)),
        ("name", Str(config.Name)),
        ("deviceClass", Str(config.DeviceClass)),
        ("labels", Labels(config.Metadata.Labels)),
        ("placement", Placement(config.Placement)));

    public static MappingNode Fleet(FleetSettings fleet) => Map(
        ("name", Str(fleet.Name)),
        ("labels", Labels(fleet.Metadata.Labels)));

    /// <summary>The subjects of a cluster's desired state, each with its owner's context.</summary>
    public static IReadOnlyList<PolicySubject> Subjects(FleetModel fleet, DesiredState state, Func<string, MappingNode?>? workloadCache = null)
    {
        var owners = new Dictionary<string, MappingNode?>(StringComparer.Ordinal);
        MappingNode? Owner(RenderedObject o)
        {
            var key = o.OwnerKind + "/" + o.Owner;
            if (!owners.TryGetValue(key, out var context))
            {
                context = workloadCache?.Invoke(key) ?? (o.OwnerKind == FleetApi.WorkloadKind
                    ? fleet.Workloads.FirstOrDefault(w => w.Name == o.Owner) is { } w ? Workload(w) : null
                    : fleet.DeviceConfigs.FirstOrDefault(d => d.Name == o.Owner) is { } d ? DeviceConfig(d) : null);
                owners[key] = context;
            }

            return context;
        }

        return [.. state.Objects.Select(o => new PolicySubject(o.Id, o.Body, Owner(o), o.OwnerKind + "/" + o.Owner))];
    }

    /// <summary>The workloads placed on a cluster (for <c>ctx.workloads</c>), by name.</summary>
    public static MappingNode Placed(DesiredState state, Func<string, MappingNode?> owners) =>
        Map([.. state.Workloads.Select(name => (name, (Node?)owners(FleetApi.WorkloadKind + "/" + name)))
            .Where(p => p.Item2 is not null)
            .Select(p => (p.name, p.Item2!))]);

    private static MappingNode Placement(Placement placement) => Map(
        ("clusterSelector", placement.ClusterSelector is { } selector
            ? Map(("matchLabels", Labels(selector.MatchLabels)))
            : Null()),
        ("within", placement.Within is { } circle
            ? Map(("lat", Num(circle.Center.Lat)), ("lon", Num(circle.Center.Lon)), ("radiusKm", Num(circle.RadiusKm)))
            : Null()),
        ("geofence", placement.Geofence is { } fence ? GeoJson(fence) : Null()));

    private static MappingNode GeoJson(GeoFence fence)
    {
        Node Ring(ImmutableArray<GeoPoint> ring) => Seq([.. ring.Select(p => (Node)Seq([Num(p.Lon), Num(p.Lat)]))]);
        Node Polygon(GeoPolygon polygon) => Seq([.. polygon.Rings.Select(Ring)]);
        var coordinates = fence.Type == "MultiPolygon" ? Seq([.. fence.Polygons.Select(Polygon)]) : Polygon(fence.Polygons[0]);
        return Map(("type", Str(fence.Type)), ("coordinates", coordinates));
    }

    private static MappingNode Labels(IReadOnlyDictionary<string, string> labels) =>
        Map([.. labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => (l.Key, (Node)Str(l.Value)))]);

    internal static MappingNode Map(params (string Key, Node Value)[] entries) =>
        new([.. entries.Select(e => new KeyValuePair<ScalarNode, Node>(ScalarNode.String(e.Key, Nowhere), e.Value))], Nowhere);

    private static SequenceNode Seq(ImmutableArray<Node> items) => new(items, Nowhere);

    private static ScalarNode Str(string value) => ScalarNode.String(value, Nowhere);

    private static ScalarNode Null() => ScalarNode.NullValue;

    private static ScalarNode Num(double value) => new(value.ToString("R", CultureInfo.InvariantCulture), ScalarKind.Float, Nowhere);

    private static ScalarNode NumOrNull(double? value) => value is { } v ? Num(v) : Null();
}
