using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;
using LibGit2Sharp;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>The fleet's own spec.trust decides, read from the revision already trusted.</summary>
public sealed class FleetTrustVerifierTests : IDisposable
{
    private const string Committer = "test@edgeops.invalid";
    private const string TrustYaml = "spec:\n  trust:\n    allowedSigners: trust/allowed_signers\n";
    private readonly TempFleet _repo = new();
    private readonly string _keys = Directory.CreateTempSubdirectory("edgeops-keys-").FullName;

    [Fact]
    public void FleetWithoutTrustSettings_AcceptsUnsignedRevisions()
    {
        var head = _repo.Commit("plain");

        var verdict = Verify(head, null);

        Assert.True(verdict.Accepted);
        Assert.Contains("does not require signed revisions", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void FirstSync_UsesTheCandidatesOwnSigners_AndSaysSo()
    {
        var release = SshSigning.NewKey(_keys, "release");
        var head = CommitSigners(release, release);

        var verdict = Verify(head, null);

        Assert.True(verdict.Accepted, verdict.Reason);
        Assert.Contains("trusted on first use", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void UnsignedHead_IsRefused()
    {
        var release = SshSigning.NewKey(_keys, "release");
        var trusted = CommitSigners(release, release);
        _repo.Write("notes.txt", "change");
        var head = _repo.Commit("unsigned change");

        var verdict = Verify(head, trusted);

        Assert.False(verdict.Accepted);
        Assert.Contains("not signed", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void PushThatAddsItsOwnKey_IsRefused_BecauseSignersComeFromTheTrustedRevision()
    {
        var release = SshSigning.NewKey(_keys, "release");
        var attacker = SshSigning.NewKey(_keys, "attacker");
        var trusted = CommitSigners(release, release);
        var head = CommitSigners(attacker, attacker);

        var verdict = Verify(head, trusted);

        Assert.False(verdict.Accepted);
        Assert.Contains("not an allowed signer", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyRotationSignedByTheOldKey_IsAccepted_AndTheNewKeyThenSigns()
    {
        var oldKey = SshSigning.NewKey(_keys, "old");
        var newKey = SshSigning.NewKey(_keys, "new");
        var first = CommitSigners(oldKey, oldKey);
        var rotation = CommitSigners(newKey, signedBy: oldKey);
        _repo.Write("notes.txt", "after rotation");
        var next = SshSigning.SignedCommit(_repo, newKey, "signed by the new key");

        Assert.True(Verify(rotation, first).Accepted);
        Assert.True(Verify(next, rotation).Accepted);
        Assert.False(Verify(next, first).Accepted);
    }

    [Fact]
    public void RequireSignedRevisionsFalse_AcceptsUnsigned()
    {
        _repo.Write("fleet.yaml", TempFleet.FleetYaml + TrustYaml + "    requireSignedRevisions: false\n");
        _repo.Write("trust/allowed_signers", $"{Committer} {SshSigning.PublicKey(SshSigning.NewKey(_keys, "k"))}\n");
        var head = _repo.Commit("opt out");

        Assert.True(Verify(head, null).Accepted);
    }

    [Fact]
    public void BrokenSignersFileInTheTrustedRevision_RefusesWithItsLine()
    {
        _repo.Write("fleet.yaml", TempFleet.FleetYaml + TrustYaml);
        _repo.Write("trust/allowed_signers", "# release keys\nrelease@example.com frobnicate ssh-ed25519 AAAA\n");
        var trusted = _repo.Commit("broken signers");
        var head = _repo.Commit("next");

        var verdict = Verify(head, trusted);

        Assert.False(verdict.Accepted);
        Assert.Contains("trust/allowed_signers:2:1: error EO7001: unknown option 'frobnicate'", verdict.Reason, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_keys, recursive: true);
    }

    private string CommitSigners(string listed, string signedBy)
    {
        _repo.Write("fleet.yaml", TempFleet.FleetYaml + TrustYaml);
        _repo.Write("trust/allowed_signers", $"{Committer} namespaces=\"git\" {SshSigning.PublicKey(listed)}\n");
        return SshSigning.SignedCommit(_repo, signedBy, $"signers: {Path.GetFileName(listed)}");
    }

    private RevisionVerdict Verify(string revision, string? trusted)
    {
        using var repository = new Repository(_repo.Root);
        return FleetTrustVerifier.Instance.Verify(repository, revision, trusted);
    }
}
