using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

public sealed class DeployManifestTests
{
    [Fact]
    public async Task DeployManifests_PassRestrictedPodSecurityResourcesAndProvenance()
    {
        var manifest = Path.Combine(RepoPaths.Root, "deploy", "reconciler.yaml");

        var result = await CliRunner.RunAsync("check", "-b", "pod-security-restricted", "-b", "resources", "-b", "image-provenance", manifest);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("8 objects, 3 policies: 0 error violations, 0 warnings, 0 policy errors", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeployManifests_AreWhatInstallExportPrints_WithTheImageByDigest()
    {
        var shipped = File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "reconciler.yaml"));
        var image = System.Text.RegularExpressions.Regex.Match(shipped, "image: \"([^\"]+)\"").Groups[1].Value;
        Assert.Matches("@sha256:[0-9a-f]{64}$", image);

        var result = await CliRunner.RunAsync("install", "--cluster", "robot-es-0001", "--repo", "https://git.example.com/fleet.git", "--image", image, "--export");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(shipped, result.Out);
    }

    [Fact]
    public async Task HostUpgradeManifests_AreWhatInstallExportPrints_AndGiveTheAgentTheHostsBusAndState()
    {
        var shipped = File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "host-upgrades", "reconciler.yaml"));
        var image = System.Text.RegularExpressions.Regex.Match(shipped, "image: \"([^\"]+)\"").Groups[1].Value;

        var result = await CliRunner.RunAsync("install", "--cluster", "robot-es-0001", "--repo", "https://git.example.com/fleet.git", "--image", image, "--export", "--host-upgrades");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(shipped, result.Out);
        Assert.Contains("- \"--slot-backend=rauc\"", shipped, StringComparison.Ordinal);
        Assert.Contains("path: /run/dbus/system_bus_socket\n            type: Socket", shipped, StringComparison.Ordinal);
        Assert.Contains("path: /var/lib/edgeops\n            type: DirectoryOrCreate", shipped, StringComparison.Ordinal);
        Assert.Contains("pod-security.kubernetes.io/enforce: privileged", shipped, StringComparison.Ordinal);
        Assert.DoesNotContain("PersistentVolumeClaim", shipped, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstallWithACollector_PassesItAndTheReportKeyFromASecret_ThatItNeverPrints()
    {
        var image = "ghcr.io/edgeops/edgeops@sha256:" + new string('a', 64);

        var result = await CliRunner.RunAsync("install", "--cluster", "robot-es-0001", "--repo", "https://git.example.com/fleet.git", "--image", image, "--export", "--collector", "https://collector.example:8443");
        var refused = await CliRunner.RunAsync("install", "--cluster", "robot-es-0001", "--repo", "https://git.example.com/fleet.git", "--image", image, "--export", "--collector", "collector.example");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("- \"--collector=https://collector.example:8443\"", result.Out, StringComparison.Ordinal);
        Assert.Contains("- \"--report-key=/etc/edgeops/report/key\"", result.Out, StringComparison.Ordinal);
        Assert.Contains("- name: report-key\n              mountPath: /etc/edgeops/report\n              readOnly: true", result.Out, StringComparison.Ordinal);
        Assert.Contains("secretName: edgeops-report-key\n            defaultMode: 0440", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", result.Out, StringComparison.Ordinal);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--collector must be an http(s) URL", refused.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("edgeops-agent.service", "reconcile", "--slot-backend")]
    [InlineData("edgeops-collector.service", "collector", "--fleet")]
    public async Task SystemdUnit_StartsItsCommandWithOptionsItHas(string file, string command, string required)
    {
        var unit = File.ReadAllLines(Path.Combine(RepoPaths.Root, "deploy", "systemd", file));
        var exec = unit.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal));
        var help = await CliRunner.RunAsync(command, "--help");

        var options = exec.Split(' ').Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToList();
        Assert.Contains(required, options);
        Assert.All(options, option => Assert.Contains(option, help.Out, StringComparison.Ordinal));
        Assert.EndsWith($"/edgeops {command}", exec.Split(' ', 3)[0] + " " + exec.Split(' ', 3)[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("edgeops-agent.service")]
    [InlineData("edgeops-collector.service")]
    public void SystemdUnit_PassesSystemdsOwnCheck(string file)
    {
        // systemd-analyze verify reads the unit as systemd would; the binary it starts is put where the unit expects it.
        using var dir = new TempFleet(withFleet: false);
        var unit = File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "systemd", file));
        var exec = unit.Split('\n').Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..].Split(' ')[0];
        var stand = Path.Combine(dir.Root, "edgeops");
        File.WriteAllText(stand, "#!/bin/sh\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(stand, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        var copy = Path.Combine(dir.Root, file);
        File.WriteAllText(copy, unit.Replace("ExecStart=" + exec, "ExecStart=" + stand, StringComparison.Ordinal));

        var start = new System.Diagnostics.ProcessStartInfo("systemd-analyze") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "verify", "--man=no", copy })
        {
            start.ArgumentList.Add(arg);
        }

        using var verify = System.Diagnostics.Process.Start(start)!;
        var output = verify.StandardOutput.ReadToEnd() + verify.StandardError.ReadToEnd();
        verify.WaitForExit();

        Assert.True(verify.ExitCode == 0 && output.Length == 0, output);
    }

    [Fact]
    public void CollectorSystemdUnit_HandsTheAdminTokenToItsDynamicUserAsACredential()
    {
        var unit = File.ReadAllLines(Path.Combine(RepoPaths.Root, "deploy", "systemd", "edgeops-collector.service"));

        Assert.Contains("DynamicUser=yes", unit);
        Assert.Contains("LoadCredential=admin-token:/etc/edgeops/collector-admin.token", unit);
        Assert.Contains("--admin-token-file %d/admin-token", unit.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void AgentSystemdUnit_WaitsForRauc() =>
        Assert.Contains("Requires=rauc.service", File.ReadAllLines(Path.Combine(RepoPaths.Root, "deploy", "systemd", "edgeops-agent.service")));

    [Fact]
    public async Task InstallExport_WithSignersAndBranch_ShipsTheSecretAndPinsThem()
    {
        using var dir = new TempFleet(withFleet: false);
        dir.Write("allowed_signers", "ops@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm7kqzFQ9YH1xwzq7Jc3vV5d1tN8Jk2a1s9nS0xq9mX\n");

        var result = await CliRunner.RunAsync("install", "--cluster", "robot-es-0002", "--repo", "https://git.example.com/fleet.git", "--branch", "release",
            "--allowed-signers", Path.Combine(dir.Root, "allowed_signers"), "--image", "registry.local/edgeops@sha256:" + new string('a', 64), "--export");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("name: edgeops-allowed-signers", result.Out, StringComparison.Ordinal);
        Assert.Contains("allowed_signers: \"ops@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm7kqzFQ9YH1xwzq7Jc3vV5d1tN8Jk2a1s9nS0xq9mX\\n\"", result.Out, StringComparison.Ordinal);
        Assert.Contains("- \"--allowed-signers=/etc/edgeops/trust/allowed_signers\"", result.Out, StringComparison.Ordinal);
        Assert.Contains("- \"--branch=release\"", result.Out, StringComparison.Ordinal);
        Assert.Contains("image: \"registry.local/edgeops@sha256:", result.Out, StringComparison.Ordinal);
        Assert.Contains("value: \"robot-es-0002\"", result.Out, StringComparison.Ordinal);
        var file = Path.Combine(dir.Root, "install.yaml");
        File.WriteAllText(file, result.Out);
        var checkedOut = await CliRunner.RunAsync("check", "-b", "pod-security-restricted", file);
        Assert.Equal(0, checkedOut.ExitCode);
    }

    [Theory]
    [InlineData("--cluster", "Robot_1", "not a valid cluster name")]
    [InlineData("--interval", "soon", "is not a duration")]
    [InlineData("--image", "ghcr.io/edgeops/edgeops:0.1.0", "is not named by digest")]
    [InlineData("--image", "ghcr.io/edgeops/edgeops@sha256:abc", "is not named by digest")]
    [InlineData("--image", "edgeops@sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "is not named by digest")]
    [InlineData("--repo", "git.example.com/fleet.git", "--repo must be an http://, https:// or git:// URL")]
    [InlineData("--repo", "file:///srv/fleet.git", "--repo must be an http://, https:// or git:// URL")]
    [InlineData("--repo", "https://git.example.com/fleet.git\"\n  evil: yes", "--repo must be an http://, https:// or git:// URL")]
    [InlineData("--namespace", "Edge Ops", "--namespace 'Edge Ops' is not a valid namespace name")]
    [InlineData("--namespace", "edgeops\n# x", "is not a valid namespace name")]
    [InlineData("--branch", "release..v2", "--branch 'release..v2' is not a branch name: it holds '..'")]
    [InlineData("--branch", "feature/.hidden", "has a part that begins with '.'")]
    [InlineData("--branch", "main ", "holds ' '")]
    [InlineData("--allowed-signers", "/nonexistent/allowed_signers", "--allowed-signers /nonexistent/allowed_signers: cannot read it")]
    [InlineData("--collector", "https://ops:hunter2@collector.example", "--collector must be an http(s) URL without user information; found 'https://***@collector.example'")]
    public async Task InstallExport_BadInput_IsAUsageError(string option, string value, string message)
    {
        var args = new List<string> { "install", "--cluster", "robot-1", "--repo", "https://git.example.com/fleet.git", "--image", "r.local/e@sha256:" + new string('b', 64), "--export" };
        var at = args.IndexOf(option);
        if (at >= 0)
        {
            args[at + 1] = value;
        }
        else
        {
            args.AddRange([option, value]);
        }

        var result = await CliRunner.RunAsync([.. args]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstallExport_RepoWithCredentials_IsRefused_WithoutShowingThem()
    {
        var result = await CliRunner.RunAsync("install", "--cluster", "robot-1", "--repo", "https://ops:ghp_secret@git.example.com/fleet.git",
            "--image", "r.local/e@sha256:" + new string('b', 64), "--export");

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Out);
        Assert.Contains("--repo holds credentials (https://***@git.example.com/fleet.git)", result.Error, StringComparison.Ordinal);
        Assert.Contains("Secret edgeops-git-credentials", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_secret", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("# nobody yet\n", "allowed_signers: holds no signer, so every commit would be refused")]
    [InlineData("root:x:0:0:root:/root:/bin/bash\n", "allowed_signers:1:1: error EO7001: expected principals, [options,] key type and key")]
    public async Task InstallExport_AllowedSignersThatWouldRefuseEverything_IsAUsageError(string text, string message)
    {
        using var dir = new TempFleet(withFleet: false);
        dir.Write("allowed_signers", text);

        var result = await CliRunner.RunAsync("install", "--cluster", "robot-1", "--repo", "https://git.example.com/fleet.git",
            "--allowed-signers", Path.Combine(dir.Root, "allowed_signers"), "--image", "r.local/e@sha256:" + new string('b', 64), "--export");

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Out);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_WithoutExport_SaysHowToApply()
    {
        var result = await CliRunner.RunAsync("install", "--cluster", "robot-1", "--repo", "https://git.example.com/fleet.git", "--image", "r.local/e@sha256:" + new string('b', 64));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--export", result.Error, StringComparison.Ordinal);
    }
}
