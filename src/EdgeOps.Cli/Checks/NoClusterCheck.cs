using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Validation;

namespace EdgeOps.Cli.Checks;

/// <summary>A fleet-wide check that has nothing to check per cluster.</summary>
internal sealed class NoClusterCheck : IClusterCheck
{
    public static readonly NoClusterCheck Instance = new();

    public IReadOnlyList<string> Rules => [];

    public void Check(Cluster cluster, DesiredState state, ClusterCheckResult result)
    {
    }

    public void Dispose()
    {
    }
}
