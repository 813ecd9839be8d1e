using System.Text;
using EdgeOps.Trust.Ssh;

namespace EdgeOps.Trust.Tests.Ssh;

public sealed class AllowedSignersTests : IDisposable
{
    private static readonly byte[] Commit = Encoding.UTF8.GetBytes("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <ops@example.com> 1700000000 +0000\n\nbump\n");
    private static readonly DateTimeOffset CommitTime = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly SshKeygen _keygen = new();

    [Fact]
    public void ReadsPrincipalsOptionsAndKeys()
    {
        var key = _keygen.PublicKey(_keygen.NewKey("k", "ed25519"));
        var signers = AllowedSigners.Parse($"""
            # fleet release keys
            ops@example.com,release@example.com {key}
            *@example.com namespaces="git,file",valid-after=20250101,valid-before=20260101Z {key}
            """);

        Assert.Empty(signers.Problems);
        Assert.Equal(2, signers.Signers.Count);
        Assert.Equal(["ops@example.com", "release@example.com"], signers.Signers[0].Principals);
        var scoped = signers.Signers[1];
        Assert.Equal(["git", "file"], scoped.Namespaces);
        Assert.True(scoped.Matches("anyone@example.com"));
        Assert.False(scoped.Matches("anyone@example.org"));
        Assert.True(scoped.Allows("git", CommitTime));
        Assert.False(scoped.Allows("git", new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero)));
        Assert.False(scoped.Allows("git", new DateTimeOffset(2024, 12, 31, 0, 0, 0, TimeSpan.Zero)));
        Assert.False(scoped.Allows("ci", CommitTime));
    }

    [Theory]
    [InlineData("ops@example.com", "expected principals")]
    [InlineData("ops@example.com ssh-ed25519 %%%", "")]
    [InlineData("ops@example.com frobnicate=1 ssh-ed25519 AAAA", "unknown option 'frobnicate'")]
    [InlineData("ops@example.com valid-after=tomorrow ssh-ed25519 AAAA", "'tomorrow' is not a time")]
    [InlineData("ops@example.com cert-authority ssh-ed25519 AAAA", "cert-authority keys are not supported")]
    public void BadLinesAreReportedWithTheirNumber(string line, string expected)
    {
        var signers = AllowedSigners.Parse(line);

        var problem = Assert.Single(signers.Problems);
        Assert.Equal(1, problem.Line);
        Assert.Contains(expected, problem.Message, StringComparison.Ordinal);
        Assert.Empty(signers.Signers);
    }

    [Fact]
    public void TrustsACommitSignedByAnAllowedSigner()
    {
        var key = _keygen.NewKey("k", "ed25519");
        var signers = AllowedSigners.Parse($"ops@example.com {_keygen.PublicKey(key)}");

        var verdict = CommitSignatureVerifier.Verify(_keygen.Sign(key, Commit), Commit, signers, "ops@example.com", CommitTime);

        Assert.True(verdict.Trusted, verdict.Reason);
        Assert.Equal("ops@example.com", verdict.Principal);
    }

    [Fact]
    public void RejectsUnsignedCommit()
    {
        var verdict = CommitSignatureVerifier.Verify(null, Commit, AllowedSigners.Parse(string.Empty), "ops@example.com", CommitTime);

        Assert.False(verdict.Trusted);
        Assert.Contains("not signed", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsGpgSignature()
    {
        var verdict = CommitSignatureVerifier.Verify("-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----", Commit, AllowedSigners.Parse(string.Empty), "ops@example.com", CommitTime);

        Assert.False(verdict.Trusted);
        Assert.Contains("not with an SSH key", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsKeyThatIsNotAllowed()
    {
        var allowed = _keygen.NewKey("allowed", "ed25519");
        var stranger = _keygen.NewKey("stranger", "ed25519");
        var signers = AllowedSigners.Parse($"ops@example.com {_keygen.PublicKey(allowed)}");

        var verdict = CommitSignatureVerifier.Verify(_keygen.Sign(stranger, Commit), Commit, signers, "ops@example.com", CommitTime);

        Assert.False(verdict.Trusted);
        Assert.Contains("not an allowed signer", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsCommitAlteredAfterSigning()
    {
        var key = _keygen.NewKey("k", "ecdsa", 256);
        var signers = AllowedSigners.Parse($"ops@example.com {_keygen.PublicKey(key)}");
        var signature = _keygen.Sign(key, Commit);
        var altered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Commit).Replace("bump", "pwn", StringComparison.Ordinal));

        var verdict = CommitSignatureVerifier.Verify(signature, altered, signers, "ops@example.com", CommitTime);

        Assert.False(verdict.Trusted);
        Assert.Contains("does not match", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsSignatureInAnotherNamespace()
    {
        var key = _keygen.NewKey("k", "ed25519");
        var signers = AllowedSigners.Parse($"ops@example.com {_keygen.PublicKey(key)}");

        var verdict = CommitSignatureVerifier.Verify(_keygen.Sign(key, Commit, "file"), Commit, signers, "ops@example.com", CommitTime);

        Assert.False(verdict.Trusted);
        Assert.Contains("namespace 'file'", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsKeyOutsideItsValidity()
    {
        var key = _keygen.NewKey("k", "ed25519");
        var signers = AllowedSigners.Parse($"ops@example.com valid-before=20250101 {_keygen.PublicKey(key)}");

        var verdict = CommitSignatureVerifier.Verify(_keygen.Sign(key, Commit), Commit, signers, "ops@example.com", CommitTime);

        Assert.False(verdict.Trusted);
        Assert.Contains("not valid for git commits at the commit time", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsKeyOfAnotherPrincipal()
    {
        var key = _keygen.NewKey("k", "rsa", 2048);
        var signers = AllowedSigners.Parse($"dev@example.com {_keygen.PublicKey(key)}");

        var verdict = CommitSignatureVerifier.Verify(_keygen.Sign(key, Commit), Commit, signers, "ops@example.com", CommitTime);

        Assert.False(verdict.Trusted);
        Assert.Contains("belongs to dev@example.com", verdict.Reason, StringComparison.Ordinal);
    }

    public void Dispose() => _keygen.Dispose();
}
