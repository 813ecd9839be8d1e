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
            $"fleet diff {a[..12]}..{b[..12]}\n\ncluster far-1: 1 changed\n  ~ ConfigMap default/app\n      data.key: \"value\" → \"new\"\n\nuntouched: 1 cluster: micro-1\n",
            result.Out);
    }

    [Fact]
    public async Task Diff_SameChangeOnManyClusters_IsGrouped_FilteredAndScripted()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("far-1", "tier: far").Cluster("far-2", "tier: far").Cluster("far-3", "tier: far\ncountry: IT").Cluster("micro-1", "tier: micro");
        fleet.Workload("app", "placement: {clusterSelector: {matchLabels: {tier: far}}}");
        var a = fleet.Commit("a");
        fleet.Write("workloads/app/manifest.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  key: new\n");
        var b = fleet.Commit("b");

        var grouped = await CliRunner.RunAsync("diff", $"{a}..{b}", fleet.Root, "--exit-code");
        Assert.Equal(1, grouped.ExitCode);
        Assert.Contains("same change on 3 clusters (far-1, far-2, far-3): 1 changed", grouped.Out, StringComparison.Ordinal);

        var selected = await CliRunner.RunAsync("diff", $"{a}..{b}", fleet.Root, "--selector", "country=IT");
        Assert.Contains("cluster far-3: 1 changed", selected.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("far-1", selected.Out, StringComparison.Ordinal);

        var quiet = await CliRunner.RunAsync("diff", $"{a}..{b}", fleet.Root, "--cluster", "micro-1", "--exit-code");
        Assert.Equal(0, quiet.ExitCode);
        Assert.Contains("untouched: 1 cluster: micro-1", quiet.Out, StringComparison.Ordinal);

        var markdown = await CliRunner.RunAsync("diff", $"{a}..{b}", fleet.Root, "-o", "markdown");
        Assert.Contains("### Fleet diff `", markdown.Out, StringComparison.Ordinal);
        Assert.Contains("```diff\n~ ConfigMap default/app\n!     data.key: \"value\" → \"new\"\n```", markdown.Out, StringComparison.Ordinal);

        var unknown = await CliRunner.RunAsync("diff", $"{a}..{b}", fleet.Root, "--cluster", "nope");
        Assert.Equal(2, unknown.ExitCode);
    }

    [Fact]
    public async Task Diff_OfAnInvalidRevision_IsRefusedWithItsDiagnostics()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        var good = fleet.Commit("good");
        fleet.Write("clusters/a.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata: {name: a}\nspec: {bogus: 1}\n");
        var bad = fleet.Commit("bad");

        var result = await CliRunner.RunAsync("diff", $"{good}..{bad}", fleet.Root);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("clusters/a.yaml:4:8: error EO2001", result.Error, StringComparison.Ordinal);
        Assert.Contains("cannot diff", result.Error, StringComparison.Ordinal);
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
        foreach (var range in new[] { "HEAD..HEAD..HEAD", "HEAD....HEAD", "HEAD..." })
        {
            var result = await CliRunner.RunAsync("diff", range, fleet.Root);
            Assert.Equal((2, $"edgeops: '{range}' is not a revision range; write A..B, A...B or A\n"), (result.ExitCode, result.Error));
        }

        var nope = await CliRunner.RunAsync("diff", "HEAD...nope", fleet.Root);
        Assert.Equal((2, "edgeops: revision 'nope' does not name a commit\n"), (nope.ExitCode, nope.Error));
    }

    [Fact]
    public async Task Diff_ThreeDots_ShowsWhatABranchChangesSinceItLeftTheOther_AsGitDiffDoes()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("far-1", "tier: far");
        fleet.Workload("app");
        var fork = fleet.Commit("fork");
        fleet.Git("checkout", "-q", "-b", "feature");
        fleet.Write("workloads/app/manifest.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  key: feature\n");
        var feature = fleet.Commit("the branch's change");
        fleet.Git("checkout", "-q", "main");
        fleet.Workload("other");
        fleet.Commit("main moves on meanwhile");

        var threeDots = await CliRunner.RunAsync("diff", "main...feature", fleet.Root);
        var twoDots = await CliRunner.RunAsync("diff", "main..feature", fleet.Root);

        Assert.Equal(0, threeDots.ExitCode);
        Assert.Equal($"fleet diff {fork[..12]}..{feature[..12]}\n\ncluster far-1: 1 changed\n  ~ ConfigMap default/app\n      data.key: \"value\" → \"feature\"\n\nuntouched: none\n", threeDots.Out);
        // Two dots compare the tips: main's own later change shows up, reversed, as if the branch removed it.
        Assert.Contains("ConfigMap default/other", twoDots.Out, StringComparison.Ordinal);
    }
}
