using System.Diagnostics;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;
using LibGit2Sharp;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>Commits signed by real git (gpg.format=ssh) and checked in-process, as git verify-commit would.</summary>
public sealed class SshRevisionVerifierTests : IDisposable
{
    private const string Committer = "test@edgeops.invalid";
    private readonly TempFleet _repo = new();
    private readonly string _keys = Directory.CreateTempSubdirectory("edgeops-keys-").FullName;

    [Theory]
    [InlineData("ed25519")]
    [InlineData("ecdsa")]
    [InlineData("rsa")]
    public void CommitSignedByAllowedSigner_IsAccepted_AsGitAgrees(string type)
    {
        var key = NewKey("release", type);
        var signers = WriteSigners($"{Committer} {PublicKey(key)}");
        var head = SignedCommit(key, "release 1");

        var verdict = Verify(signers, head);

        Assert.True(verdict.Accepted, verdict.Reason);
        Assert.Contains("good signature", verdict.Reason, StringComparison.Ordinal);
        Assert.Equal(0, GitVerifyCommit(signers, head));
    }

    [Fact]
    public void UnsignedCommit_IsRejected()
    {
        var key = NewKey("release", "ed25519");
        var signers = WriteSigners($"{Committer} {PublicKey(key)}");
        _repo.Write("fleet.yaml", TempFleet.FleetYaml);
        var head = _repo.Commit("unsigned");

        var verdict = Verify(signers, head);

        Assert.False(verdict.Accepted);
        Assert.Contains("not signed", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CommitSignedByUnknownKey_IsRejected_AsGitAgrees()
    {
        var allowed = NewKey("release", "ed25519");
        var attacker = NewKey("attacker", "ed25519");
        var signers = WriteSigners($"{Committer} {PublicKey(allowed)}");
        var head = SignedCommit(attacker, "sneaky");

        var verdict = Verify(signers, head);

        Assert.False(verdict.Accepted);
        Assert.Contains("not an allowed signer", verdict.Reason, StringComparison.Ordinal);
        Assert.NotEqual(0, GitVerifyCommit(signers, head));
    }

    [Fact]
    public void KeyRetiredBeforeTheCommit_IsRejected()
    {
        var key = NewKey("release", "ed25519");
        var signers = WriteSigners($"{Committer} valid-before=20200101 {PublicKey(key)}");
        var head = SignedCommit(key, "late");

        var verdict = Verify(signers, head);

        Assert.False(verdict.Accepted);
        Assert.Contains("not valid for git commits", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void BadAllowedSignersFile_IsAnErrorNamingTheLine()
    {
        var file = WriteSigners($"# keys\n{Committer} ssh-ed25519");

        var error = Assert.Throws<ReconcilerException>(() => SshRevisionVerifier.FromFile(file));

        Assert.StartsWith($"{file}:2:1: error EO7001: ", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_keys, recursive: true);
    }

    private RevisionVerdict Verify(string signersFile, string revision)
    {
        using var repository = new Repository(_repo.Root);
        return SshRevisionVerifier.FromFile(signersFile).Verify(repository, revision, null);
    }

    private string SignedCommit(string key, string message)
    {
        _repo.Write("fleet.yaml", TempFleet.FleetYaml + $"# {message}\n");
        return SshSigning.SignedCommit(_repo, key, message);
    }

    private int GitVerifyCommit(string signersFile, string revision)
    {
        var start = new ProcessStartInfo("git", ["-c", $"gpg.ssh.allowedSignersFile={signersFile}", "verify-commit", revision])
        {
            WorkingDirectory = _repo.Root,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }

    private string WriteSigners(string text)
    {
        var path = Path.Combine(_keys, "allowed_signers");
        File.WriteAllText(path, text + "\n");
        return path;
    }

    private string NewKey(string name, string type) => SshSigning.NewKey(_keys, name, type);

    private static string PublicKey(string key) => SshSigning.PublicKey(key);
}
