using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Loading;

/// <summary><c>spec.trust</c>: the commit signing mode (explicit <c>commits</c> form and its shorthand) and Sigstore identities.</summary>
public sealed class TrustSettingsTests : IDisposable
{
    private readonly TempFleet _fleet = new();

    public TrustSettingsTests() => _fleet.Write("trust/allowed_signers", "release@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n");

    public void Dispose() => _fleet.Dispose();

    [Fact]
    public void Load_CommitsModeSsh_RequiresSignedRevisionsByTheNamedSigners()
    {
        WriteTrust("commits:\n      mode: ssh\n      allowedSigners: trust/allowed_signers\n");

        var result = TestFleets.Load(_fleet);

        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        Assert.True(result.Fleet.Settings.Trust.RequireSignedRevisions);
        Assert.Equal("trust/allowed_signers", result.Fleet.Settings.Trust.AllowedSigners!.Value);
    }

    [Fact]
    public void Load_CommitsModeUnsigned_RequiresNothing()
    {
        WriteTrust("commits:\n      mode: unsigned\n");

        var result = TestFleets.Load(_fleet);

        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        Assert.False(result.Fleet.Settings.Trust.RequireSignedRevisions);
        Assert.Null(result.Fleet.Settings.Trust.AllowedSigners);
    }

    [Fact]
    public void Load_ShorthandAllowedSigners_MeansModeSsh()
    {
        WriteTrust("allowedSigners: trust/allowed_signers\n");

        var result = TestFleets.Load(_fleet);

        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        Assert.True(result.Fleet.Settings.Trust.RequireSignedRevisions);
    }

    [Fact]
    public void Load_CommitsModeSigstore_UsesTheSigstoreIdentities()
    {
        WriteTrust("commits:\n      mode: sigstore\n    sigstore:\n      identities:\n        - issuer: https://token.actions.githubusercontent.com\n          subject: https://github.com/pomona/fleet/.github/workflows/release.yml@refs/heads/main\n");

        var result = TestFleets.Load(_fleet);

        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        Assert.True(result.Fleet.Settings.Trust.RequireSignedRevisions);
        Assert.True(result.Fleet.Settings.Trust.SigstoreSignedRevisions);
        Assert.Null(result.Fleet.Settings.Trust.AllowedSigners);
    }

    [Theory]
    [InlineData("commits:\n      mode: sigstore\n", "fleet.yaml:8:13: error EO2003: Fleet.spec.trust.commits.mode sigstore needs Fleet.spec.trust.sigstore.identities")]
    [InlineData("commits:\n      mode: ssh\n", "fleet.yaml:8:7: error EO2003: Fleet.spec.trust.commits.allowedSigners is required when mode is ssh")]
    [InlineData("commits:\n      mode: gpg\n", "fleet.yaml:8:13: error EO2004: Fleet.spec.trust.commits.mode must be one of ssh, sigstore, unsigned; found 'gpg'")]
    [InlineData("commits:\n      mode: unsigned\n      allowedSigners: trust/allowed_signers\n", "fleet.yaml:9:23: error EO3050: Fleet.spec.trust.commits.allowedSigners has no effect when mode is unsigned")]
    [InlineData("allowedSigners: trust/allowed_signers\n    commits:\n      mode: ssh\n      allowedSigners: trust/allowed_signers\n", "fleet.yaml:9:7: error EO3050: Fleet.spec.trust.commits and the shorthand allowedSigners/requireSignedRevisions say the same thing; keep one")]
    [InlineData("commits:\n      mode: ssh\n      allowedSigners: trust/missing\n", "fleet.yaml:9:23: error EO3005: trust.allowedSigners 'trust/missing' does not exist")]
    [InlineData("commits:\n      mode: ssh\n      signers: trust/allowed_signers\n", "fleet.yaml:9:7: error EO2001: unknown field 'signers' in Fleet.spec.trust.commits")]
    public void Load_BadCommitsSettings_AreLocatedErrors(string trust, string expected)
    {
        WriteTrust(trust);

        var result = TestFleets.Load(_fleet);

        Assert.True(result.HasErrors);
        Assert.True(result.Diagnostics.Any(d => d.ToString().StartsWith(expected, StringComparison.Ordinal)), string.Join("\n", result.Diagnostics));
    }

    private void WriteTrust(string trust) => _fleet.Write("fleet.yaml", TempFleet.FleetYaml + "spec:\n  trust:\n    " + trust);
}
