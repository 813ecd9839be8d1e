using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

/// <summary><c>edgeops validate</c> on the fleet's trust settings, with real keys and real signed commits.</summary>
public sealed class TrustValidationTests : IDisposable
{
    private const string TrustYaml = "spec:\n  trust:\n    allowedSigners: trust/allowed_signers\n";
    private readonly TempFleet _fleet = new();
    private readonly string _keys = Directory.CreateTempSubdirectory("edgeops-keys-").FullName;

    [Fact]
    public async Task VerifySignatures_CommitSignedByAnAllowedKey_IsValid()
    {
        var release = SshSigning.NewKey(_keys, "release");
        WriteTrust(release);
        SshSigning.SignedCommit(_fleet, release, "first");
        _fleet.Write("clusters/edge-1.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: edge-1\n");
        SshSigning.SignedCommit(_fleet, release, "add a cluster");

        var result = await CliRunner.RunAsync("validate", _fleet.Root, "--verify-signatures");

        Assert.True(result.ExitCode == 0, result.Out + result.Error);
        Assert.DoesNotContain("EO7002", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifySignatures_UnsignedCommit_IsALocatedError()
    {
        var release = SshSigning.NewKey(_keys, "release");
        WriteTrust(release);
        SshSigning.SignedCommit(_fleet, release, "first");
        _fleet.Write("notes.txt", "unsigned change");
        var head = _fleet.Commit("unsigned");

        var result = await CliRunner.RunAsync("validate", _fleet.Root, "--verify-signatures");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"fleet.yaml:7:21: error EO7002: commit {head[..12]} would be refused by the reconciler, judged by the signers of its parent", result.Out, StringComparison.Ordinal);
        Assert.Contains("the commit is not signed", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifySignatures_CommitThatAddsItsOwnKey_IsRefused()
    {
        var release = SshSigning.NewKey(_keys, "release");
        var stranger = SshSigning.NewKey(_keys, "stranger");
        WriteTrust(release);
        SshSigning.SignedCommit(_fleet, release, "first");
        WriteTrust(stranger);
        SshSigning.SignedCommit(_fleet, stranger, "swap the key");

        var result = await CliRunner.RunAsync("validate", _fleet.Root, "--verify-signatures");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not an allowed signer", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifySignatures_OutsideAGitRepository_IsAnError()
    {
        WriteTrust(SshSigning.NewKey(_keys, "release"));

        var result = await CliRunner.RunAsync("validate", _fleet.Root, "--verify-signatures");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error EO7002: signatures were asked to be verified, but", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifySignatures_FleetThatRequiresNoSignatures_IsAnError()
    {
        _fleet.Commit("plain");

        var result = await CliRunner.RunAsync("validate", _fleet.Root, "--verify-signatures");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("fleet.yaml:1:1: error EO7002: signatures were asked to be verified, but the fleet requires no signed revisions", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadAllowedSignersLine_IsALocatedErrorWithoutTheFlag()
    {
        _fleet.Write("fleet.yaml", TempFleet.FleetYaml + TrustYaml);
        _fleet.Write("trust/allowed_signers", "# release keys\nrelease@example.com valid-after=someday ssh-ed25519 AAAA\n");

        var result = await CliRunner.RunAsync("validate", _fleet.Root);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("trust/allowed_signers:2:1: error EO7001: 'someday' is not a time (YYYYMMDD[HHMM[SS]][Z])", result.Out, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _fleet.Dispose();
        Directory.Delete(_keys, recursive: true);
    }

    [Fact]
    public async Task VerifySignatures_ExplicitCommitsModeSsh_IsEnforcedLikeTheShorthand()
    {
        var release = SshSigning.NewKey(_keys, "release");
        WriteTrust(release);
        _fleet.Write("fleet.yaml", TempFleet.FleetYaml + "spec:\n  trust:\n    commits:\n      mode: ssh\n      allowedSigners: trust/allowed_signers\n");
        SshSigning.SignedCommit(_fleet, release, "first");
        _fleet.Write("notes.txt", "unsigned change");
        _fleet.Commit("unsigned");

        var result = await CliRunner.RunAsync("validate", _fleet.Root, "--verify-signatures");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("fleet.yaml:9:23: error EO7002: commit ", result.Out, StringComparison.Ordinal);
        Assert.Contains("the commit is not signed", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifySignatures_SigstoreMode_JudgesTheBundleNoteOfTheCommit()
    {
        const string Release = "https://github.com/pomona/fleet/.github/workflows/release.yml@refs/heads/main";
        using var sigstore = new EdgeOps.Trust.Tests.Sigstore.VirtualSigstore();
        _fleet.Write("trust/sigstore-trusted-root.json", sigstore.TrustedRootJson());
        _fleet.Write("fleet.yaml", TempFleet.FleetYaml + "spec:\n  trust:\n    commits:\n      mode: sigstore\n    sigstore:\n      trustedRoot: trust/sigstore-trusted-root.json\n" +
            $"      identities:\n        - issuer: {EdgeOps.Trust.Tests.Sigstore.VirtualSigstore.DefaultIssuer}\n          subject: {Release}\n");
        var first = _fleet.Commit("first");
        Note(first, sigstore.SignMessage(System.Text.Encoding.UTF8.GetBytes(first), new EdgeOps.Trust.Tests.Sigstore.SignOptions { Identity = Release }));
        _fleet.Write("notes.txt", "signed change");
        var second = _fleet.Commit("second");
        Note(second, sigstore.SignMessage(System.Text.Encoding.UTF8.GetBytes(second), new EdgeOps.Trust.Tests.Sigstore.SignOptions { Identity = Release }));

        var good = await CliRunner.RunAsync("validate", _fleet.Root, "--verify-signatures");
        _fleet.Write("notes.txt", "unsigned change");
        var third = _fleet.Commit("third");
        var bad = await CliRunner.RunAsync("validate", _fleet.Root, "--verify-signatures");

        Assert.True(good.ExitCode == 0, good.Out + good.Error);
        Assert.Equal(1, bad.ExitCode);
        Assert.True(bad.Out.Contains($"fleet.yaml:8:13: error EO7002: commit {third[..12]} would be refused by the reconciler, judged by the signers of its parent", StringComparison.Ordinal), bad.Out);
        Assert.Contains("has no Sigstore bundle in refs/notes/edgeops-signatures", bad.Out, StringComparison.Ordinal);
    }

    private void Note(string commit, string bundle) => _fleet.AddNote(commit, bundle, "refs/notes/edgeops-signatures");

    private void WriteTrust(string key)
    {
        _fleet.Write("fleet.yaml", TempFleet.FleetYaml + TrustYaml);
        _fleet.Write("trust/allowed_signers", $"test@edgeops.invalid {SshSigning.PublicKey(key)}\n");
    }
}
