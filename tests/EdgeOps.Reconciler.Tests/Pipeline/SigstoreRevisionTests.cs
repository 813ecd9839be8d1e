using System.Text;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Tests;
using EdgeOps.Trust.Tests.Sigstore;
using LibGit2Sharp;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>
/// <c>spec.trust.commits.mode: sigstore</c>: a revision is trusted when a Sigstore bundle over its commit ID,
/// attached as a note in refs/notes/edgeops-signatures, is signed by one of the identities of the revision
/// already trusted (bundles from the in-memory Sigstore instance).
/// </summary>
public sealed class SigstoreRevisionTests : IDisposable
{
    private const string Release = "https://github.com/pomona/fleet/.github/workflows/release.yml@refs/heads/main";
    private const string Attacker = "https://github.com/mallory/fork/.github/workflows/release.yml@refs/heads/main";
    private readonly TempFleet _repo = new();
    private readonly VirtualSigstore _sigstore = new();

    public void Dispose()
    {
        _sigstore.Dispose();
        _repo.Dispose();
    }

    [Fact]
    public void RevisionWithABundleFromTheFleetsIdentity_IsAccepted()
    {
        var trusted = CommitTrust(Release);
        _repo.Write("notes.txt", "change");
        var head = SignedCommit("release", Release);

        var verdict = Verify(head, trusted);

        Assert.True(verdict.Accepted, verdict.Reason);
        Assert.True(verdict.Signed);
        Assert.Contains($"signed by {Release} (issuer {VirtualSigstore.DefaultIssuer})", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RevisionWithoutABundle_IsRefused()
    {
        var trusted = CommitTrust(Release);
        _repo.Write("notes.txt", "change");
        var head = _repo.Commit("unsigned");

        var verdict = Verify(head, trusted);

        Assert.False(verdict.Accepted);
        Assert.Contains("has no Sigstore bundle in refs/notes/edgeops-signatures", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void BundleForAnotherCommit_IsRefusedAsArtifact()
    {
        var trusted = CommitTrust(Release);
        _repo.Write("notes.txt", "change");
        var head = _repo.Commit("unsigned");
        AddNote(head, _sigstore.SignMessage(Encoding.UTF8.GetBytes(trusted), new SignOptions { Identity = Release }));

        var verdict = Verify(head, trusted);

        Assert.False(verdict.Accepted);
        Assert.Contains("its Sigstore bundle is rejected (artifact)", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void PushThatNamesItsOwnIdentity_IsRefused_BecauseIdentitiesComeFromTheTrustedRevision()
    {
        var trusted = CommitTrust(Release);
        WriteTrust(Attacker);
        var head = SignedCommit("take over", Attacker);

        var verdict = Verify(head, trusted);

        Assert.False(verdict.Accepted);
        Assert.Contains("rejected (identity)", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains(Attacker, verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TamperedBundle_IsRefusedAsSignature()
    {
        var trusted = CommitTrust(Release);
        _repo.Write("notes.txt", "change");
        var head = _repo.Commit("tampered");
        var bundle = System.Text.Json.Nodes.JsonNode.Parse(_sigstore.SignMessage(Encoding.UTF8.GetBytes(head), new SignOptions { Identity = Release }))!;
        var signature = Convert.FromBase64String(bundle["messageSignature"]!["signature"]!.GetValue<string>());
        signature[^3] ^= 1;
        bundle["messageSignature"]!["signature"] = Convert.ToBase64String(signature);
        AddNote(head, bundle.ToJsonString());

        var verdict = Verify(head, trusted);

        Assert.False(verdict.Accepted);
        Assert.Contains("rejected (signature)", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void FirstSync_UsesTheCandidatesOwnIdentities_AndSaysSo()
    {
        WriteTrust(Release);
        var head = SignedCommit("first", Release);

        var verdict = Verify(head, null);

        Assert.True(verdict.Accepted, verdict.Reason);
        Assert.Contains("identities trusted on first use", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void UnreadableTrustedRootInTheTrustedRevision_RefusesWithItsLine()
    {
        WriteTrust(Release);
        _repo.Write("trust/sigstore-trusted-root.json", "{\"tlogs\": 5}");
        var trusted = _repo.Commit("broken root");
        var head = SignedCommit("next", Release);

        var verdict = Verify(head, trusted);

        Assert.False(verdict.Accepted);
        Assert.Contains("fleet.yaml:10:20: error EO7006: trusted root: $.tlogs must be an array", verdict.Reason, StringComparison.Ordinal);
    }

    private string CommitTrust(string identity)
    {
        WriteTrust(identity);
        return SignedCommit("trust", identity);
    }

    private void WriteTrust(string identity)
    {
        _repo.Write("fleet.yaml", TempFleet.FleetYaml + $"""
            spec:
              trust:
                commits:
                  mode: sigstore
                sigstore:
                  trustedRoot: trust/sigstore-trusted-root.json
                  identities:
                    - issuer: {VirtualSigstore.DefaultIssuer}
                      subject: {identity}

            """);
        _repo.Write("trust/sigstore-trusted-root.json", _sigstore.TrustedRootJson());
    }

    /// <summary>Commits, then signs the commit ID as a CI job would (sign-blob) and attaches the bundle as a note.</summary>
    private string SignedCommit(string message, string identity)
    {
        var head = _repo.Commit(message);
        AddNote(head, _sigstore.SignMessage(Encoding.UTF8.GetBytes(head), new SignOptions { Identity = identity }));
        return head;
    }

    private void AddNote(string commit, string bundle) => _repo.AddNote(commit, bundle, FleetTrustVerifier.SignatureNotes);

    private RevisionVerdict Verify(string revision, string? trusted)
    {
        using var repository = new Repository(_repo.Root);
        return FleetTrustVerifier.Instance.Verify(repository, revision, trusted);
    }
}
