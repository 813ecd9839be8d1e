using System.Text.Json;
using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

/// <summary>The command line as people type it: help when bare, suggestions for typos, JSON where scripts read.</summary>
public sealed class CommandLineTests
{
    [Fact]
    public async Task Bare_PrintsHelpAndExitsZero()
    {
        var result = await CliRunner.RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:", result.Out, StringComparison.Ordinal);
        Assert.Contains("validate", result.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "valdate" }, "(did you mean 'validate'?)")]
    [InlineData(new[] { "validate", "--outptu", "json" }, "unknown option '--outptu' for 'validate' (did you mean '--output'?)")]
    [InlineData(new[] { "reconcile", "--repo", "r", "--cluster", "c", "--kubecontext", "x" }, "unknown option '--kubecontext' for 'reconcile'")]
    public async Task Typos_AreUsageErrors_WithTheNearestName(string[] args, string message)
    {
        var result = await CliRunner.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "valdate", "." }, "edgeops: unknown command 'valdate' (did you mean 'validate'?)\nRun 'edgeops --help' for usage.\n")]
    [InlineData(new[] { "--bogus" }, "edgeops: unknown option '--bogus' for 'edgeops'\nRun 'edgeops --help' for usage.\n")]
    [InlineData(new[] { "validate", "--bogus" }, "edgeops: unknown option '--bogus' for 'validate'\nRun 'edgeops validate --help' for usage.\n")]
    [InlineData(new[] { "rollout", "status", "abc", "--collector", "http://127.0.0.1:1", "--bogus" }, "edgeops: unknown option '--bogus' for 'rollout status'\nRun 'edgeops rollout status --help' for usage.\n")]
    public async Task UsageErrors_AreOneLine_AndNameTheHelpToRead(string[] args, string error)
    {
        var result = await CliRunner.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(error, result.Error.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--rev", "validate", "FLEET", "--rev", "")]
    [InlineData("--changed-since", "validate", "FLEET", "--changed-since", "")]
    [InlineData("--state-dir", "reconcile", "--once", "--repo", "FLEET", "--cluster", "edge-1", "--state-dir", "")]
    [InlineData("--kubeconfig", "reconcile", "--once", "--repo", "FLEET", "--cluster", "edge-1", "--state-dir", "STATE", "--kubeconfig", "")]
    [InlineData("--allowed-signers", "reconcile", "--once", "--repo", "FLEET", "--cluster", "edge-1", "--state-dir", "STATE", "--allowed-signers", "")]
    [InlineData("--report-key", "reconcile", "--once", "--repo", "FLEET", "--cluster", "edge-1", "--state-dir", "STATE", "--report-key", "")]
    [InlineData("--repo", "reconcile", "--once", "--repo", "", "--cluster", "edge-1", "--state-dir", "STATE")]
    [InlineData("--namespace", "reconcile", "--once", "--repo", "FLEET", "--cluster", "edge-1", "--state-dir", "STATE", "--namespace", "")]
    [InlineData("--repo", "install", "--cluster", "edge-1", "--repo", "", "--image", "ghcr.io/x/e@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "--export")]
    [InlineData("--policies", "check", "--policies", "", "FLEET")]
    public async Task EmptyOptionValue_IsAUsageErrorNamingTheOption_BeforeAnythingRuns(string option, params string[] args)
    {
        using var fleet = new TempFleet();
        var state = Path.Combine(fleet.Root, "state");

        var result = await CliRunner.RunAsync([.. args.Select(a => a.Replace("FLEET", fleet.Root, StringComparison.Ordinal).Replace("STATE", state, StringComparison.Ordinal))]);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"edgeops: {option} needs a value; it was given an empty one\nRun 'edgeops {args[0]} --help' for usage.\n", result.Error.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Empty(result.Out);
        Assert.False(Directory.Exists(state));
    }

    [Fact]
    public async Task Clusters_AsJson_ListEveryClusterWithItsLabels()
    {
        var result = await CliRunner.RunAsync("clusters", RepoPaths.ExampleFleet, "-o", "json");

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        var clusters = json.RootElement.GetProperty("clusters").EnumerateArray().ToList();
        Assert.Equal(13, clusters.Count);
        var robot = clusters.Single(c => c.GetProperty("name").GetString() == "robot-es-0001");
        Assert.Equal("micro", robot.GetProperty("labels").GetProperty("tier").GetString());
        Assert.True(robot.GetProperty("objects").GetInt32() > 0);
    }

    [Fact]
    public async Task Reconcile_WithAContextTheKubeconfigLacks_IsAUsageError()
    {
        using var dir = new TempFleet(withFleet: false);
        dir.Write("kubeconfig", "apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: \"https://127.0.0.1:1\"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: t, context: {cluster: t, user: u}}]\ncurrent-context: t\n");

        var result = await CliRunner.RunAsync("reconcile", "--once", "--repo", dir.Root, "--cluster", "c", "--kubeconfig", Path.Combine(dir.Root, "kubeconfig"),
            "--context", "elsewhere", "--state-dir", Path.Combine(dir.Root, "state"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("elsewhere", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_KubeconfigThatDoesNotExist_SaysWhichFile()
    {
        using var dir = new TempFleet(withFleet: false);
        var missing = Path.Combine(dir.Root, "no-such-kubeconfig");

        var result = await CliRunner.RunAsync("reconcile", "--once", "--repo", dir.Root, "--cluster", "c", "--kubeconfig", missing, "--state-dir", Path.Combine(dir.Root, "state"));

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"edgeops: cannot use the Kubernetes configuration: cannot read the kubeconfig {missing}", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_KubeconfigPluginNeedingATerminal_IsALocatedErrorWithoutATrace()
    {
        using var dir = new TempFleet(withFleet: false);
        dir.Write("kubeconfig", "clusters: [{name: t, cluster: {server: \"https://127.0.0.1:1\"}}]\nusers:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: login, interactiveMode: Always}\ncontexts: [{name: t, context: {cluster: t, user: u}}]\ncurrent-context: t\n");
        var kubeconfig = Path.Combine(dir.Root, "kubeconfig");

        var result = await CliRunner.RunAsync("reconcile", "--once", "--repo", dir.Root, "--cluster", "c", "--kubeconfig", kubeconfig, "--state-dir", Path.Combine(dir.Root, "state"));

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"{kubeconfig}:5:90: error EO3050: the credential plugin of user 'u' needs a terminal (interactiveMode: Always)", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completion_Bash_CompletesCommandsAndTheirOptions()
    {
        var script = await CliRunner.RunAsync("completion", "bash");
        Assert.Equal(0, script.ExitCode);
        using var dir = new TempFleet(withFleet: false);
        dir.Write("c.bash", script.Out);

        var psi = new System.Diagnostics.ProcessStartInfo("bash", ["-c",
            $"source {Path.Combine(dir.Root, "c.bash")}; COMP_WORDS=(edgeops val); COMP_CWORD=1; _edgeops; echo \"${{COMPREPLY[*]}}\"; COMP_WORDS=(edgeops validate --ou); COMP_CWORD=2; _edgeops; echo \"${{COMPREPLY[*]}}\""])
        {
            RedirectStandardOutput = true,
        };
        using var bash = System.Diagnostics.Process.Start(psi)!;
        var output = await bash.StandardOutput.ReadToEndAsync();
        await bash.WaitForExitAsync();

        Assert.Equal(["validate", "--output"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("zsh", "bashcompinit")]
    [InlineData("fish", "complete -c edgeops -n '__fish_seen_subcommand_from validate' -l output")]
    public async Task Completion_OtherShells(string shell, string expected)
    {
        var script = await CliRunner.RunAsync("completion", shell);

        Assert.Equal(0, script.ExitCode);
        Assert.Contains(expected, script.Out, StringComparison.Ordinal);
    }

    public static TheoryData<string> Commands() => [.. CommandHelp.Commands.Where(c => c != "edgeops")];

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task EveryCommandsHelp_HasExamplesExitCodesAndEnvironment(string command)
    {
        var result = await CliRunner.RunAsync(command, "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:", result.Out, StringComparison.Ordinal);
        Assert.Contains("Examples:\n  edgeops " + command, result.Out.Replace("helm template chart | ", string.Empty, StringComparison.Ordinal).Replace("source <(", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("Exit codes:\n  0 ", result.Out, StringComparison.Ordinal);
        Assert.Contains("Environment:\n", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryCommand_HasAHelpEpilogue()
    {
        var help = await CliRunner.RunAsync("--help");
        var listed = help.Out.Split('\n').SkipWhile(l => !l.StartsWith("Commands:", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => l.Trim().Length > 0)
            .Select(l => l.Trim().Split(' ')[0]);

        Assert.Equal(listed.Order(StringComparer.Ordinal), CommandHelp.Commands.Where(c => c != "edgeops").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Reconcile_ReportKeyThatCannotSign_IsAUsageErrorSayingWhy()
    {
        using var dir = new TempFleet(withFleet: false);
        using (var keygen = System.Diagnostics.Process.Start("ssh-keygen", ["-q", "-t", "ed25519", "-N", "a passphrase", "-C", "robot", "-f", Path.Combine(dir.Root, "locked")])!)
        {
            await keygen.WaitForExitAsync();
        }

        var missing = await CliRunner.RunAsync("reconcile", "--repo", dir.Root, "--cluster", "robot-1", "--once", "--report-key", Path.Combine(dir.Root, "absent"));
        var locked = await CliRunner.RunAsync("reconcile", "--repo", dir.Root, "--cluster", "robot-1", "--once", "--report-key", Path.Combine(dir.Root, "locked"));

        Assert.Equal((2, 2), (missing.ExitCode, locked.ExitCode));
        Assert.Contains("--report-key", missing.Error, StringComparison.Ordinal);
        Assert.Contains("protected by a passphrase", locked.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", missing.Error + locked.Error, StringComparison.Ordinal);
    }
}
