using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Sources;
using EdgeOps.Tests;

namespace EdgeOps.Policy.Tests;

internal static class FleetLoad
{
    public static LoadResult Load(TempFleet fleet)
    {
        using var source = new DirectoryFleetSource(fleet.Root);
        var result = new FleetLoader().Load(source);
        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        return result;
    }
}
