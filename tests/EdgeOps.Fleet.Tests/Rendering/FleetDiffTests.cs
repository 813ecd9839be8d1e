using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Rendering;

public sealed class FleetDiffTests
{
    [Fact]
    public void Compare_TwoRevisions_ReportsPerClusterChangesAndUntouchedClusters()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("far-1", "tier: far").Cluster("micro-1", "tier: micro").Cluster("gone", "tier: far");
        fleet.Workload("app", "placement: {clusterSelector: {matchLabels: {tier: far}}}");
        fleet.Workload("old", "placement: {clusterSelector: {matchLabels: {tier: far}}}");
        var before = fleet.Commit("before");
        fleet.Write("workloads/app/manifest.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  key: changed\n");
        Directory.Delete(Path.Combine(fleet.Root, "workloads", "old"), recursive: true);
        fleet.Workload("new", "placement: {clusterSelector: {matchLabels: {tier: far}}}");
        fleet.Delete("clusters/gone.yaml");
        fleet.Cluster("added", "tier: micro");
        var after = fleet.Commit("after");

        using var a = GitTreeFleetSource.Open(fleet.Root, before);
        using var b = GitTreeFleetSource.Open(fleet.Root, after);
        var loader = new FleetLoader();
        var diffs = FleetDiff.Compare(loader.Load(a).Fleet, loader.Load(b).Fleet).ToDictionary(d => d.Cluster);

        var far = diffs["far-1"];
        Assert.Equal(ClusterChangeKind.Changed, far.Kind);
        Assert.Equal(
            ["Changed ConfigMap default/app [data.key]", "Added ConfigMap default/new []", "Removed ConfigMap default/old []"],
            far.Changes.Select(c => $"{c.Kind} {c.Id} [{string.Join(",", c.ChangedPaths)}]"));
        Assert.Equal(ClusterChangeKind.Untouched, diffs["micro-1"].Kind);
        Assert.Equal(ClusterChangeKind.Removed, diffs["gone"].Kind);
        Assert.Equal(ClusterChangeKind.Added, diffs["added"].Kind);
    }

    [Fact]
    public void Compare_OnlyFormattingChanged_IsUntouched()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("app");
        var before = fleet.Commit("before");
        fleet.Write("workloads/app/manifest.yaml", "# reformatted\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {key: \"value\"}\n");
        var after = fleet.Commit("after");

        using var a = GitTreeFleetSource.Open(fleet.Root, before);
        using var b = GitTreeFleetSource.Open(fleet.Root, after);
        var loader = new FleetLoader();

        Assert.Equal(ClusterChangeKind.Untouched, FleetDiff.Compare(loader.Load(a).Fleet, loader.Load(b).Fleet).Single().Kind);
    }
}
