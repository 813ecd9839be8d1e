namespace EdgeOps.Trust.Ssh;

public sealed record CommitVerdict(bool Trusted, string Reason, string? Principal = null, string? KeyFingerprint = null);

/// <summary>
/// Verifies a git commit's SSH signature against allowed signers, as <c>git verify-commit</c> does
/// with gpg.format=ssh, without calling ssh-keygen: the signature must be an SSHSIG in namespace
/// "git" over the commit's signed content, by a key that the allowed signers list for that namespace
/// at the commit time, and (where principals are named) for the committer's email.
/// </summary>
public static class CommitSignatureVerifier
{
    public static CommitVerdict Verify(string? armoredSignature, ReadOnlySpan<byte> signedData, AllowedSigners signers, string committerEmail, DateTimeOffset commitTime)
    {
        if (string.IsNullOrWhiteSpace(armoredSignature))
        {
            return new CommitVerdict(false, "the commit is not signed");
        }

        if (!SshSignature.IsSshSignature(armoredSignature))
        {
            return new CommitVerdict(false, "the commit is signed, but not with an SSH key");
        }

        SshSignature signature;
        try
        {
            signature = SshSignature.Parse(armoredSignature);
        }
        catch (FormatException ex)
        {
            return new CommitVerdict(false, $"the signature cannot be read: {ex.Message}");
        }

        var fingerprint = signature.Key.Fingerprint;
        if (!signature.Verify(signedData, "git"))
        {
            return new CommitVerdict(false, signature.Namespace != "git"
                ? $"the signature is for namespace '{signature.Namespace}', not 'git'"
                : "the signature does not match the commit (altered after signing?)", null, fingerprint);
        }

        var candidates = signers.Signers.Where(s => s.Key.Equals(signature.Key)).ToList();
        if (candidates.Count == 0)
        {
            return new CommitVerdict(false, $"signed by {signature.Key.Type} key {fingerprint}, which is not an allowed signer", null, fingerprint);
        }

        var allowed = candidates.FirstOrDefault(s => s.Allows("git", commitTime) && s.Matches(committerEmail));
        if (allowed is null)
        {
            var reason = candidates.Any(s => s.Matches(committerEmail))
                ? "the signer's key is not valid for git commits at the commit time"
                : $"the key belongs to {string.Join(", ", candidates.SelectMany(c => c.Principals))}, not the committer {committerEmail}";
            return new CommitVerdict(false, reason, null, fingerprint);
        }

        return new CommitVerdict(true, $"good signature by {committerEmail} ({fingerprint})", committerEmail, fingerprint);
    }
}
