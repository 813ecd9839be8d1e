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
}
