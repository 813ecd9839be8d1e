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
    public async Task DeployManifests_AreWhatInstallExportPrints()
    {
        var result = await CliRunner.RunAsync("install", "--cluster", "robot-es-0001", "--repo", "https://git.example.com/fleet.git", "--export");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "reconciler.yaml")), result.Out);
    }

    [Fact]
    public async Task InstallExport_WithSignersAndBranch_ShipsTheSecretAndPinsThem()
    {
        using var dir = new TempFleet(withFleet: false);
        dir.Write("allowed_signers", "ops@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n");

        var result = await CliRunner.RunAsync("install", "--cluster", "robot-es-0002", "--repo", "https://git.example.com/fleet.git", "--branch", "release",
            "--allowed-signers", Path.Combine(dir.Root, "allowed_signers"), "--image", "registry.local/edgeops@sha256:" + new string('a', 64), "--export");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("name: edgeops-allowed-signers", result.Out, StringComparison.Ordinal);
        Assert.Contains("allowed_signers: \"ops@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\\n\"", result.Out, StringComparison.Ordinal);
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
    public async Task InstallExport_BadInput_IsAUsageError(string option, string value, string message)
    {
        var args = new List<string> { "install", "--cluster", "robot-1", "--repo", "https://git.example.com/fleet.git", "--export" };
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
    public async Task Install_WithoutExport_SaysHowToApply()
    {
        var result = await CliRunner.RunAsync("install", "--cluster", "robot-1", "--repo", "https://git.example.com/fleet.git");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--export", result.Error, StringComparison.Ordinal);
    }
}
