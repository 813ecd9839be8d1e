using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

public sealed class StatusCommandTests
{
    private static string Report(string cluster, string revision, string outcome, bool ready, DateTimeOffset time, string? offlineSince = null) => $$"""
        {
          "schema": "edgeops.io/status-report/v1",
          "cluster": "{{cluster}}",
          "repository": "https://git.example.com/fleet.git",
          "appliedRevision": "{{revision}}",
          "outcome": "{{outcome}}",
          "message": "{{outcome}} message",
          "conditions": [{"type": "Ready", "status": "{{(ready ? "True" : "False")}}", "reason": "{{outcome}}", "message": ""}],
          "time": "{{time:O}}"{{(offlineSince is null ? string.Empty : $",\n  \"offlineSince\": \"{offlineSince}\"")}}
        }
        """;

    [Fact]
    public async Task Status_FolderOfReports_ShowsRevisionHealthAndStaleness()
    {
        using var dir = new TempFleet(withFleet: false);
        var now = DateTimeOffset.UtcNow;
        dir.Write("robot-1/status.json", Report("robot-1", "0123456789abcdef0123", "Unchanged", true, now.AddSeconds(-20)));
        dir.Write("robot-2/status.json", Report("robot-2", "fedcba9876543210fedc", "RolledBack", false, now.AddMinutes(-3)));
        dir.Write("robot-3/status.json", Report("robot-3", "0123456789abcdef0123", "Unchanged", true, now.AddHours(-5), "2026-11-27T08:00:00Z"));
        dir.Write("notes/other.json", "{\"something\": \"else\"}");

        var result = await CliRunner.RunAsync("status", dir.Root);

        Assert.Equal(1, result.ExitCode);
        var lines = result.Out.TrimEnd('\n').Split('\n');
        Assert.Matches(@"^CLUSTER\s+REVISION\s+OUTCOME\s+HEALTH\s+REPORTED\s+UPGRADE\s+DETAIL$", lines[0]);
        Assert.Matches(@"^robot-1\s+0123456789ab\s+unchanged\s+ready\s+\d+s ago\s+-\s+Unchanged message$", lines[1]);
        Assert.Matches(@"^robot-2\s+fedcba987654\s+rolledback\s+not ready\s+3m ago\s+-\s+RolledBack message$", lines[2]);
        Assert.Matches(@"^robot-3\s+.*STALE 5h ago\s+-\s+offline since 2026-11-27 08:00$", lines[3]);
        Assert.Equal("3 clusters, 1 ready and current, 2 need attention", lines[^1]);
    }

    [Fact]
    public async Task Status_MissingFolder_ExitsTwo() =>
        Assert.Equal(2, (await CliRunner.RunAsync("status", "/nonexistent/reports")).ExitCode);

    [Fact]
    public async Task Status_WithFleet_ListsClustersThatNeverReported_FiltersAndPrintsJson()
    {
        using var dir = new TempFleet(withFleet: false);
        var now = DateTimeOffset.UtcNow;
        dir.Write("robot-es-0001/status.json", Report("robot-es-0001", "0123456789abcdef0123", "Unchanged", true, now.AddSeconds(-20)));
        var fleet = Path.Combine(RepoPaths.Root, "examples", "fleet-repo");

        var all = await CliRunner.RunAsync("status", dir.Root, "--fleet", fleet);
        Assert.Equal(1, all.ExitCode);
        Assert.Matches(@"(?m)^robot-es-0002\s+-\s+-\s+never reported\s+-\s+-\s+no status report$", all.Out);
        Assert.Contains("13 clusters, 1 ready and current, 12 need attention", all.Out, StringComparison.Ordinal);

        var selected = await CliRunner.RunAsync("status", dir.Root, "--fleet", fleet, "--selector", "country=ES,tier=micro", "-o", "json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(selected.Out)!;
        var clusters = json["clusters"]!.AsArray().Select(c => (c!["cluster"]!.ToString(), c["state"]!.ToString())).ToList();
        Assert.Equal([("robot-es-0001", "ready"), ("robot-es-0002", "never reported")], clusters);

        var notReady = await CliRunner.RunAsync("status", dir.Root, "--fleet", fleet, "--selector", "country=ES,tier=micro", "--not-ready");
        Assert.DoesNotContain("robot-es-0001", notReady.Out, StringComparison.Ordinal);
        Assert.Contains("robot-es-0002", notReady.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_ReportWithAnUpgrade_ShowsItsPhaseAndVersions()
    {
        using var dir = new TempFleet(withFleet: false);
        var report = Report("robot-1", "0123456789abcdef0123", "Waiting", true, DateTimeOffset.UtcNow).TrimEnd().TrimEnd('}') + """
              ,"upgrade": {"plan": "robot-os", "component": "os", "phase": "Trial", "fromVersion": "2026.10.1", "toVersion": "2026.11.2",
                           "runningVersion": "2026.11.2", "bootedSlot": "rootfs.1", "targetSlot": "rootfs.1", "reason": "waiting for vision-ready"}
            }
            """;
        dir.Write("robot-1/status.json", report);

        var table = await CliRunner.RunAsync("status", dir.Root);
        var json = System.Text.Json.Nodes.JsonNode.Parse((await CliRunner.RunAsync("status", dir.Root, "-o", "json")).Out)!;

        Assert.Matches(@"(?m)^robot-1\s+0123456789ab\s+waiting\s+ready\s+\d+s ago\s+trial 2026.11.2\s+Waiting message$", table.Out);
        var upgrade = json["clusters"]![0]!["upgrade"]!;
        Assert.Equal(("Trial", "2026.10.1", "rootfs.1"), (upgrade["phase"]!.ToString(), upgrade["fromVersion"]!.ToString(), upgrade["targetSlot"]!.ToString()));
    }

    [Fact]
    public async Task Status_MalformedReport_IsAnErrorNamingTheFile()
    {
        using var dir = new TempFleet(withFleet: false);
        dir.Write("robot-1/status.json", "{\"schema\": \"edgeops.io/status-report/v1\", \"cluster\": ");

        var result = await CliRunner.RunAsync("status", dir.Root);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(Path.Combine(dir.Root, "robot-1", "status.json") + ": the status report is malformed", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tier in (near", "parentheses")]
    [InlineData("tier near", "not understood")]
    [InlineData("a=1,a=2", "asks for a=1 and a=2")]
    public async Task Status_BadSelector_IsAUsageError(string selector, string message)
    {
        using var dir = new TempFleet(withFleet: false);
        var result = await CliRunner.RunAsync("status", dir.Root, "--fleet", Path.Combine(RepoPaths.Root, "examples", "fleet-repo"), "--selector", selector);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }
}
