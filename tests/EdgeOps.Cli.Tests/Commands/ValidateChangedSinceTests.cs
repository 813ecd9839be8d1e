using System.Text.Json.Nodes;
using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

/// <summary>
/// <c>validate --changed-since REV</c> renders only the clusters a change can reach, with the same
/// diagnostics for them as a full run; fleet-wide files reach every cluster, and files nothing reads none.
/// </summary>
public sealed class ValidateChangedSinceTests : IDisposable
{
    private readonly TempFleet _fleet = new();
    private readonly string _base;

    public ValidateChangedSinceTests()
    {
        _fleet.Cluster("far-1", "tier: far").Cluster("far-2", "tier: far").Cluster("near-1", "tier: near").Cluster("near-2", "tier: near");
        _fleet.Workload("camera", spec: "placement:\n  clusterSelector:\n    matchLabels: {tier: far}");
        _fleet.Workload("planner", spec: "placement:\n  clusterSelector:\n    matchLabels: {tier: near}");
        _fleet.Write("README.md", "# fleet\n");
        _base = _fleet.Commit("base");
    }

    private async Task<(int Code, List<string> Clusters, string Text)> Validate(params string[] extra)
    {
        var json = await CliRunner.RunAsync(["validate", _fleet.Root, "-o", "json", .. extra]);
        var clusters = JsonNode.Parse(json.Out)!["clusters"]!.AsArray().Select(c => c!["name"]!.ToString()).Order(StringComparer.Ordinal).ToList();
        var text = await CliRunner.RunAsync(["validate", _fleet.Root, .. extra]);
        Assert.Equal(json.ExitCode, text.ExitCode);
        return (json.ExitCode, clusters, text.Out);
    }

    [Fact]
    public async Task AManifestChange_ValidatesOnlyTheClustersTheWorkloadIsPlacedOn()
    {
        _fleet.Write("workloads/camera/manifest.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: camera\ndata:\n  key: changed\n");

        var (code, clusters, text) = await Validate("--changed-since", _base);

        Assert.Equal(0, code);
        Assert.Equal(["far-1", "far-2"], clusters);
        Assert.Contains("changed since " + _base + ": 1 change reach 2 clusters of 4; only those validated", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APlacementChange_ValidatesTheClustersBeforeAndAfter()
    {
        _fleet.Workload("camera", spec: "placement:\n  clusterSelector:\n    matchLabels: {tier: near}");
        _fleet.Commit("move the camera");

        var (_, clusters, _) = await Validate("--changed-since", _base);

        Assert.Equal(["far-1", "far-2", "near-1", "near-2"], clusters);
    }

    [Fact]
    public async Task AClusterChange_ValidatesThatCluster_AndAnInertFile_None()
    {
        _fleet.Cluster("near-2", "tier: near\nzone: b");
        _fleet.Write("README.md", "# fleet, described\n");

        var (_, clusters, _) = await Validate("--changed-since", _base);

        Assert.Equal(["near-2"], clusters);
    }

    [Fact]
    public async Task CommentsThatMoveNothing_ReachNoCluster_EvenInAFleetWideFile()
    {
        Append("workloads/camera/manifest.yaml", "# reviewed by the camera team\n");
        Append("fleet.yaml", "\n# fleet-wide note\n");

        var (code, clusters, text) = await Validate("--changed-since", _base);

        Assert.Equal(0, code);
        Assert.Empty(clusters);
        Assert.Contains("0 changes reach 0 clusters of 4; only those validated (2 files changed only in comments or layout: fleet.yaml, workloads/camera/manifest.yaml)", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACommentThatMovesLines_ReachesTheWorkloadsClusters_WhereItsProblemsAreReportedOnOtherLines()
    {
        var path = Path.Combine(_fleet.Root, "workloads/camera/manifest.yaml");
        File.WriteAllText(path, "# moved one line down\n" + File.ReadAllText(path));

        var (_, clusters, text) = await Validate("--changed-since", _base);

        Assert.Equal(["far-1", "far-2"], clusters);
        Assert.DoesNotContain("changed only in comments", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AManifestThatNoLongerParses_IsAChange_ReportedAtItsLine()
    {
        Append("workloads/camera/manifest.yaml", "data: [unclosed\n");

        var result = await CliRunner.RunAsync(["validate", _fleet.Root, "--changed-since", _base]);

        Assert.Equal(1, result.ExitCode);
        Assert.DoesNotContain("changed only in comments", result.Out, StringComparison.Ordinal);
        Assert.Matches(@"workloads/camera/manifest\.yaml:\d+:\d+: error EO\d{4}", result.Out);
    }

    private void Append(string path, string text) => File.AppendAllText(Path.Combine(_fleet.Root, path), text);

    [Fact]
    public async Task AFleetWideChange_ValidatesEveryCluster()
    {
        _fleet.Write("fleet.yaml", TempFleet.FleetYaml + "spec:\n  policies:\n    builtIn: [resources]\n");

        var (_, clusters, text) = await Validate("--changed-since", _base);

        Assert.Equal(["far-1", "far-2", "near-1", "near-2"], clusters);
        Assert.Contains("fleet.yaml is read by the whole fleet: every cluster validated", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDiagnosticsOfTheChosenClusters_AreThoseOfAFullRun()
    {
        // A broken manifest on the far clusters: the same located errors with and without --changed-since.
        _fleet.Write("workloads/camera/manifest.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: camera\ndata:\n  key: \"${cluster.values.missing}\"\n");

        var full = await CliRunner.RunAsync("validate", _fleet.Root);
        var changed = await CliRunner.RunAsync("validate", _fleet.Root, "--changed-since", _base);

        Assert.Equal(1, changed.ExitCode);
        static IEnumerable<string> Errors(string output) => output.Split('\n').Where(l => l.Contains(": error EO", StringComparison.Ordinal));
        Assert.NotEmpty(Errors(full.Out));
        Assert.Equal(Errors(full.Out), Errors(changed.Out));
    }

    [Theory]
    [InlineData("no-such-revision", "does not name a commit")]
    [InlineData("HEAD~5", "does not name a commit")]
    public async Task AnUnknownRevision_IsAUsageError(string revision, string message)
    {
        var result = await CliRunner.RunAsync("validate", _fleet.Root, "--changed-since", revision);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutsideAGitRepository_IsAUsageError()
    {
        using var plain = new TempFleet();
        plain.Cluster("a");

        var result = await CliRunner.RunAsync("validate", plain.Root, "--changed-since", "HEAD");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("not inside a Git repository", result.Error, StringComparison.Ordinal);
    }

    public void Dispose() => _fleet.Dispose();
}
