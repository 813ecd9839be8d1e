using EdgeOps.Fleet.Model;

namespace EdgeOps.Fleet.Rendering;

/// <summary>Decides whether a placement admits a cluster. Every constraint present must hold.</summary>
public static class PlacementEvaluator
{
    /// <summary>
    /// Whether <paramref name="placement"/> holds on the cluster. <paramref name="owner"/> (<c>Kind/name</c>) finds a
    /// live-location decision in <see cref="ClusterFacts.LocationDecisions"/>: made with hysteresis by the agent, it
    /// replaces the geometry for the location part.
    /// </summary>
    public static bool Matches(Placement placement, Cluster cluster, ClusterFacts? facts = null, string? owner = null)
    {
        if (placement.ClusterSelector is { } selector && !selector.Matches(cluster.Labels))
        {
            return false;
        }

        if (placement.HasLocationConstraint && owner is not null && facts?.LocationDecisions is { } decisions && decisions.TryGetValue(owner, out var inside))
        {
            if (!inside)
            {
                return false;
            }
        }
        else if (placement.HasLocationConstraint)
        {
            var location = facts?.Location ?? cluster.GeoLocation;
            if (location is null)
            {
                // A cluster that does not know where it is cannot satisfy a location constraint.
                return false;
            }

            if (placement.Within is { } circle && !GeoMath.Contains(circle, location.Value))
            {
                return false;
            }

            if (placement.Geofence is { } fence && !GeoMath.Contains(fence, location.Value))
            {
                return false;
            }
        }

        foreach (var required in placement.RequiredDevices)
        {
            if (DeviceCount(cluster, facts, required.Class.Value) < required.Count)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The key of a placed object in <see cref="ClusterFacts.LocationDecisions"/>.</summary>
    public static string Key(string kind, string name) => $"{kind}/{name}";

    public static int DeviceCount(Cluster cluster, ClusterFacts? facts, string deviceClass)
    {
        if (facts?.Devices is { } discovered)
        {
            return discovered.GetValueOrDefault(deviceClass);
        }

        return cluster.Devices.Where(d => d.Class.Value == deviceClass).Sum(d => d.Count);
    }
}
