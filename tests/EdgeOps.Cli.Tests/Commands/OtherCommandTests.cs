using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

public sealed class OtherCommandTests
{
    [Fact]
    public async Task Render_Cluster_PrintsAYamlStreamThatReadsBack()
    {
        var result = await CliRunner.RunAsync("render", "--cluster", "es-lleida-hub", RepoPaths.ExampleFleet);

        Assert.Equal(0, result.ExitCode);
        var bag = new DiagnosticBag();
        var docs = YamlReader.ReadDocuments("out.yaml", result.Out, bag);
        Assert.Empty(bag.ToSortedList());
        var kinds = docs.Select(d => ((MappingNode)d!).GetString("kind")).ToList();
        Assert.Equal("CustomResourceDefinition", kinds[0]);
        Assert.Contains("HarvestZone", kinds);
        var zone = docs.Cast<MappingNode>().Single(d => d.GetString("kind") == "HarvestZone");
        Assert.Equal("lleida-block-a", ((MappingNode)zone["metadata"]!).GetString("name"));
    }

    [Fact]
    public async Task Render_UnknownCluster_ExitsTwo()
    {
        var result = await CliRunner.RunAsync("render", "--cluster", "nope", RepoPaths.ExampleFleet);
        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Out);
    }

    [Fact]
    public async Task Render_FleetWithErrors_PrintsNothingAndExitsOne()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("app", manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${cluster.labels.missing}\n");

        var result = await CliRunner.RunAsync("render", "-c", "a", fleet.Root);

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Out);
        Assert.Contains("EO5001", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clusters_PrintsATableWithLabelsAndCounts()
    {
        var result = await CliRunner.RunAsync("clusters", RepoPaths.ExampleFleet);

        Assert.Equal(0, result.ExitCode);
        var lines = result.Out.TrimEnd('\n').Split('\n');
        Assert.Equal(14, lines.Length);
        Assert.Matches(@"^CLUSTER\s+TIER\s+COUNTRY\s+REGION\s+SITE\s+RING\s+WORKLOADS\s+OBJECTS$", lines[0]);
        Assert.Matches(@"^es-lleida-hub\s+near\s+ES\s+eu-south\s+lleida\s+canary\s+5\s+13$", lines.Single(l => l.StartsWith("es-lleida-hub", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Diff_TwoCommits_ShowsChangedClustersAndUntouchedOnes()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("far-1", "tier: far").Cluster("micro-1", "tier: micro");
        fleet.Workload("app", "placement: {clusterSelector: {matchLabels: {tier: far}}}");
        var a = fleet.Commit("a");
        fleet.Write("workloads/app/manifest.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  key: new\n");
        var b = fleet.Commit("b");

        var result = await CliRunner.RunAsync("diff", $"{a}..{b}", fleet.Root);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            $"fleet diff {a[..12]}..{b[..12]}\n\ncluster far-1: 1 changed\n  ~ ConfigMap default/app  (data.key)\n\nuntouched: 1 cluster: micro-1\n",
            result.Out);
    }

    [Fact]
    public async Task Diff_RevisionAgainstTheWorkTree_Works()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Commit("a");
        fleet.Workload("app");

        var result = await CliRunner.RunAsync("diff", "HEAD", fleet.Root, "-o", "json");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("\"change\": \"added\"", result.Out, StringComparison.Ordinal);
        Assert.Contains("\"to\": \"work tree\"", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diff_BadRange_ExitsTwo()
    {
        using var fleet = new TempFleet();
        fleet.Commit("a");
        Assert.Equal(2, (await CliRunner.RunAsync("diff", "..HEAD", fleet.Root)).ExitCode);
        Assert.Equal(2, (await CliRunner.RunAsync("diff", "HEAD..nope", fleet.Root)).ExitCode);
    }
}
