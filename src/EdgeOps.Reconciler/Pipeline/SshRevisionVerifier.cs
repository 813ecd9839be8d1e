using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Trust.Ssh;
using LibGit2Sharp;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>
/// Accepts a revision only if its commit carries a good SSH signature by an allowed signer
/// (git's allowed_signers format), verified in-process. The allowed signers come from outside the
/// repo (a file the operator provides), so a push cannot add its own key.
/// </summary>
public sealed class SshRevisionVerifier(AllowedSigners signers) : IRevisionVerifier
{
    public static SshRevisionVerifier FromFile(string path) => new(Read(path).Signers);

    /// <summary>
    /// An allowed_signers file as the agent takes it: every line readable (else located errors) and at least one
    /// signer. The text too, for <c>install</c>, which ships it in a Secret.
    /// </summary>
    public static (string Text, AllowedSigners Signers) Read(string path)
    {
        var text = File.ReadAllText(path);
        var signers = AllowedSigners.Parse(text);
        if (signers.Problems.Count > 0)
        {
            throw new ReconcilerException(string.Join(
                Environment.NewLine,
                signers.Problems.Select(p => $"{path}:{p.Line}:1: error {Codes.AllowedSignersSyntax}: {p.Message}")));
        }

        if (signers.Signers.Count == 0)
        {
            throw new ReconcilerException($"{path}: holds no signer, so every commit would be refused; list the keys that sign the fleet repo (git's allowed_signers format)");
        }

        return (text, signers);
    }

    public RevisionVerdict Verify(Repository repository, string revision, string? trustedRevision) => Verify(repository, revision, signers);

    /// <summary>Checks <paramref name="revision"/>'s commit signature against <paramref name="signers"/>.</summary>
    public static RevisionVerdict Verify(Repository repository, string revision, AllowedSigners signers)
    {
        var commit = repository.Lookup<Commit>(revision);
        if (commit is null)
        {
            return new RevisionVerdict(false, $"commit {revision} is not in the repository");
        }

        var signature = Source.CommitSignatures.Extract(repository, commit.Id);
        var verdict = CommitSignatureVerifier.Verify(signature?.Signature, signature is { } s ? s.SignedData : [], signers, commit.Committer.Email, commit.Committer.When);
        return new RevisionVerdict(verdict.Trusted, verdict.Reason, Signed: verdict.Trusted);
    }
}
