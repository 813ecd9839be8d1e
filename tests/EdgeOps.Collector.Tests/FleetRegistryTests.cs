using EdgeOps.Fleet.Sources;
using EdgeOps.Reconciler.Source;
using EdgeOps.Tests;

namespace EdgeOps.Collector.Tests;

/// <summary>
/// The collector follows the fleet repo as agents do: a head with errors is not followed (a typo in one Cluster file
/// must not unregister that cluster, nor a broken fleet.yaml reset the waves), it is said once, and a collector that
/// starts on such a head takes the newest revision before it that loads.
/// </summary>
public sealed class FleetRegistryTests : IDisposable
{
    private const string Broken = "apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata: {name: robot-2\n";
    private readonly TempFleet _repo = new();
    private readonly string _state = Directory.CreateTempSubdirectory("edgeops-registry-").FullName;

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_state, recursive: true);
    }

    private FleetRegistry Registry(string name) =>
        new(new GitSourceOptions { Url = _repo.Root, Branch = "main", CacheDirectory = Path.Combine(_state, name) });

    [Fact]
    public void HeadWithErrors_IsNotFollowed_IsSaidOnce_AndTheNextGoodHeadIs()
    {
        _repo.Cluster("robot-1").Cluster("robot-2");
        var good = _repo.Commit("two robots");
        var registry = Registry("a");
        Assert.Equal(good, registry.Refresh().Revision);
        _repo.Write("clusters/robot-2.yaml", Broken);
        var broken = _repo.Commit("a typo");

        var refused = Assert.Throws<FleetSourceException>(registry.Refresh);
        var again = registry.Refresh(); // the same broken head: said once, not at every refresh

        Assert.StartsWith($"head {broken[..12]} has errors (clusters/robot-2.yaml:", refused.Message, StringComparison.Ordinal);
        Assert.Equal((good, 2), (again.Revision, again.Clusters.Count));
        Assert.Equal(broken, registry.Rejected!.Revision);
        _repo.Cluster("robot-2");
        var fixedHead = _repo.Commit("fixed");
        Assert.Equal(fixedHead, registry.Refresh().Revision);
        Assert.Null(registry.Rejected);
    }

    [Fact]
    public void CollectorStartingOnABrokenHead_FollowsTheNewestRevisionBeforeItThatLoads()
    {
        _repo.Cluster("robot-1");
        _repo.Commit("one robot");
        _repo.Cluster("robot-2");
        var good = _repo.Commit("two robots");
        _repo.Write("clusters/robot-2.yaml", Broken);
        _repo.Commit("a typo");
        _repo.Cluster("robot-3");
        var broken = _repo.Commit("a third robot, the typo still there");

        var registry = Registry("b");
        var snapshot = registry.Refresh();

        Assert.Equal((good, 2), (snapshot.Revision, snapshot.Clusters.Count));
        Assert.Equal(broken, registry.Rejected!.Revision);
        Assert.Contains("clusters/robot-2.yaml:", registry.Rejected.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void RepoWithoutARevisionThatLoads_IsAnError()
    {
        _repo.Write("clusters/robot-2.yaml", Broken);
        var broken = _repo.Commit("broken from the start");

        var refused = Assert.Throws<FleetSourceException>(Registry("c").Refresh);

        Assert.StartsWith($"head {broken[..12]} has errors (", refused.Message, StringComparison.Ordinal);
        Assert.EndsWith($"), and so has every revision of the last {FleetRegistry.MaxLookBack} before it", refused.Message, StringComparison.Ordinal);
    }
}
