using System.Text.Json;
using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

public sealed class ValidateCommandTests
{
    [Fact]
    public async Task Validate_ExampleFleet_ExitsZeroWithAPerClusterSummary()
    {
        var result = await CliRunner.RunAsync("validate", RepoPaths.ExampleFleet);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("CLUSTER", result.Out, StringComparison.Ordinal);
        Assert.Contains("robot-es-0001", result.Out, StringComparison.Ordinal);
        Assert.Matches(@"fleet 'pomona-orchards' valid: 13 clusters, 9 workloads, 2 device configs, 1 upgrade plan; 0 errors, 0 warnings", result.Out);
        Assert.Empty(result.Error);
    }

    [Fact]
    public async Task Validate_BrokenFleet_ExitsOneWithCompilerStyleLinesAndACaret()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a", spec: "location:\n  lat: 123\n  lon: 0");

        var result = await CliRunner.RunAsync("validate", fleet.Root);

        Assert.Equal(1, result.ExitCode);
        var lines = result.Out.Split('\n');
        var index = Array.FindIndex(lines, l => l.Contains("error EO3030", StringComparison.Ordinal));
        Assert.Equal($"{fleet.Root}/clusters/a.yaml:9:10: error EO3030: Cluster.spec.location.lat 123 is outside -90..90", lines[index]);
        Assert.Equal(" 9 |     lat: 123", lines[index + 1]);
        Assert.Equal("   |          ^", lines[index + 2]);
        Assert.Contains("INVALID", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Out + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_JsonOutput_FollowsTheDocumentedSchema()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a").Cluster("b", spec: "capacity: {cpu: lots}");

        var result = await CliRunner.RunAsync("validate", fleet.Root, "-o", "json");

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.Equal("edgeops.io/validate-report/v1", root.GetProperty("schema").GetString());
        Assert.False(root.GetProperty("ok").GetBoolean());
        Assert.Equal(1, root.GetProperty("summary").GetProperty("errors").GetInt32());
        var d = root.GetProperty("diagnostics")[0];
        Assert.Equal("EO3040", d.GetProperty("code").GetString());
        Assert.Equal("error", d.GetProperty("severity").GetString());
        Assert.EndsWith("clusters/b.yaml", d.GetProperty("file").GetString(), StringComparison.Ordinal);
        Assert.Equal(8, d.GetProperty("line").GetInt32());
        var clusters = root.GetProperty("clusters").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.Equal(0, clusters["a"].GetProperty("errors").GetInt32());
        Assert.Equal(1, clusters["b"].GetProperty("errors").GetInt32());
    }

    [Fact]
    public async Task Validate_SarifOutput_IsSarif210WithRulesAndRegions()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a", spec: "maintenanceWindow: {schedule: \"99 * * * *\", duration: 1h}");

        var result = await CliRunner.RunAsync("validate", fleet.Root, "--output", "sarif");

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.Equal("2.1.0", root.GetProperty("version").GetString());
        var run = root.GetProperty("runs")[0];
        var rule = run.GetProperty("tool").GetProperty("driver").GetProperty("rules")[0];
        Assert.Equal("EO3020", rule.GetProperty("id").GetString());
        var sarifResult = run.GetProperty("results")[0];
        Assert.Equal("EO3020", sarifResult.GetProperty("ruleId").GetString());
        Assert.Equal(0, sarifResult.GetProperty("ruleIndex").GetInt32());
        Assert.Equal("error", sarifResult.GetProperty("level").GetString());
        var location = sarifResult.GetProperty("locations")[0].GetProperty("physicalLocation");
        Assert.EndsWith("clusters/a.yaml", location.GetProperty("artifactLocation").GetProperty("uri").GetString(), StringComparison.Ordinal);
        Assert.Equal(8, location.GetProperty("region").GetProperty("startLine").GetInt32());
        Assert.True(location.GetProperty("region").GetProperty("startColumn").GetInt32() >= 1);
    }

    [Theory]
    [InlineData("0 2 30 2 *", true)]   // February 30
    [InlineData("0 2 31 4,6,9,11 *", true)]
    [InlineData("0 2 29 2 *", false)]  // leap years: rare, but it opens
    [InlineData("0 2 31 * *", false)]
    public async Task Validate_AMaintenanceWindowNoDateMatches_IsAnError_ForItWouldNeverOpen(string schedule, bool never)
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a", spec: $"maintenanceWindow: {{schedule: \"{schedule}\", duration: 1h, timeZone: Europe/Madrid}}");

        var result = await CliRunner.RunAsync("validate", fleet.Root);

        Assert.Equal(never ? 1 : 0, result.ExitCode);
        Assert.True(never == result.Out.Contains($"clusters/a.yaml:8:33: error EO3020: Cluster.spec.maintenanceWindow.schedule '{schedule}' is not a valid cron expression: no date matches it (such as February 30), so the window would never open", StringComparison.Ordinal), result.Out + result.Error);
    }

    [Fact]
    public async Task Validate_OneCluster_RendersOnlyThatOne()
    {
        var result = await CliRunner.RunAsync("validate", RepoPaths.ExampleFleet, "--cluster", "robot-nz-0201", "-o", "json");

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        Assert.Equal(["robot-nz-0201"], json.RootElement.GetProperty("clusters").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Validate_UnknownCluster_IsAUsageError()
    {
        var result = await CliRunner.RunAsync("validate", RepoPaths.ExampleFleet, "--cluster", "robot-es-001");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("edgeops: the fleet has no cluster named 'robot-es-001' (did you mean 'robot-es-0001'?)\n", result.Error.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("validate", "--output", "xml")]
    [InlineData("validate", "--no-such-flag")]
    [InlineData("frobnicate")]
    public async Task BadUsage_ExitsTwoWithoutAStackTrace(params string[] args)
    {
        var result = await CliRunner.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("edgeops: ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_MissingFolder_ExitsTwo()
    {
        var result = await CliRunner.RunAsync("validate", "/nonexistent/fleet");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("edgeops: fleet folder '/nonexistent/fleet' does not exist", result.Error.Trim());
    }

    [Fact]
    public async Task Validate_Revision_ReadsTheCommittedTree()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        var good = fleet.Commit("good");
        fleet.Cluster("b", spec: "location: {lat: 500, lon: 0}");
        var bad = fleet.Commit("bad");
        fleet.Delete("clusters/b.yaml"); // the work tree is clean again, HEAD is not

        Assert.Equal(0, (await CliRunner.RunAsync("validate", fleet.Root)).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync("validate", fleet.Root, "--rev", good)).ExitCode);
        var atBad = await CliRunner.RunAsync("validate", fleet.Root, "--rev", bad);
        Assert.Equal(1, atBad.ExitCode);
        Assert.Contains("clusters/b.yaml:8:", atBad.Out, StringComparison.Ordinal);
        Assert.Equal(2, (await CliRunner.RunAsync("validate", fleet.Root, "--rev", "v9.9.9")).ExitCode);
    }

    [Fact]
    public async Task Validate_AliasBomb_FailsFastWithALocatedError()
    {
        using var fleet = new TempFleet();
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
        for (var i = 1; i < 12; i++)
        {
            bomb += $"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n";
        }

        fleet.Write("clusters/bomb.yaml", bomb);

        var result = await CliRunner.RunAsync("validate", fleet.Root);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error EO1003", result.Out, StringComparison.Ordinal);
    }
}
