using EdgeOps.Fleet.Model;
using EdgeOps.Trust.Sigstore;
using LibGit2Sharp;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>
/// Accepts a revision only if the Sigstore bundle attached to its commit (refs/notes/edgeops-signatures) is
/// signed by the given identity under the given trusted root. Identity and root come from outside the repo
/// (the operator's flags, typically from a Secret), so a push cannot name its own signer.
/// </summary>
public sealed class SigstoreRevisionVerifier(FleetSigstoreVerifier verifier) : IRevisionVerifier
{
    /// <summary>
    /// Builds the verifier from a trusted_root.json path (null: the public-good root) and one identity; an
    /// unreadable root throws <see cref="ReconcilerException"/> naming the file.
    /// </summary>
    public static SigstoreRevisionVerifier Create(string? trustedRootPath, SigstoreIdentity identity)
    {
        var root = TrustedRoot.PublicGood;
        if (trustedRootPath is not null)
        {
            try
            {
                root = TrustedRoot.Parse(File.ReadAllText(trustedRootPath));
            }
            catch (FormatException e)
            {
                throw new ReconcilerException($"{trustedRootPath}: {e.Message}");
            }
        }

        return new SigstoreRevisionVerifier(new FleetSigstoreVerifier(root, [identity]));
    }

    public RevisionVerdict Verify(Repository repository, string revision, string? trustedRevision) =>
        FleetTrustVerifier.VerifyBundle(repository, revision, verifier);
}
