using System.Collections.Immutable;
using EdgeOps.Fleet.Model;

namespace EdgeOps.Fleet.Rendering;

/// <summary>
/// What a cluster knows about itself at run time and the repo cannot: where it is now and which
/// devices it discovered. Given to rendering, these override the Cluster object's static facts.
/// </summary>
public sealed record ClusterFacts(
    GeoPoint? Location = null,
    ImmutableSortedDictionary<string, int>? Devices = null,
    ImmutableSortedDictionary<string, bool>? LocationDecisions = null)
{
    public static readonly ClusterFacts None = new();
}
