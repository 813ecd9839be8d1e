using EdgeOps.Fleet.Model;
using EdgeOps.Trust.Sigstore;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>The outcome for one signed artifact: verified by whom, or why not.</summary>
public sealed record SigstoreVerdict(bool Verified, BundleFailure Failure, string Reason, SigstoreIdentity? Signer, VerifiedSignature? Signature);

/// <summary>
/// The fleet's Sigstore rule: a bundle proves an artifact (its bytes, or a pinned digest) was signed by one of
/// the fleet's Sigstore identities (<c>spec.trust.sigstore.identities</c>) under the fleet's trusted root
/// (<c>spec.trust.sigstore.trustedRoot</c>, by default Sigstore's public-good instance). Upgrade artifacts must
/// pass it before anything is staged (<c>edgeops validate</c> checks the pinned digest in CI), and so must
/// revisions when <c>spec.trust.commits.mode</c> is <c>sigstore</c>.
/// </summary>
public sealed class FleetSigstoreVerifier(TrustedRoot root, IReadOnlyList<SigstoreIdentity> identities, TimeProvider? clock = null)
{
    private readonly BundleVerifier _verifier = new(root, clock);

    public SigstoreVerdict Verify(ReadOnlySpan<byte> bundle, ArtifactInput artifact)
    {
        if (identities.Count == 0)
        {
            return new SigstoreVerdict(false, BundleFailure.Identity, "spec.trust.sigstore.identities names no signer to accept", null, null);
        }

        var mismatches = new List<string>();
        foreach (var identity in identities)
        {
            var policy = VerificationPolicy.ForIdentity(
                identity.SubjectIsRegex ? null : identity.Subject,
                identity.SubjectIsRegex ? identity.Subject : null,
                identity.Issuer,
                null);
            var verdict = _verifier.Verify(bundle, artifact, policy);
            if (verdict.Verified)
            {
                return new SigstoreVerdict(true, BundleFailure.None, verdict.Reason, identity, verdict.Signature);
            }

            if (verdict.Failure != BundleFailure.Identity)
            {
                // Not about who signed: no other identity would change the answer.
                return new SigstoreVerdict(false, verdict.Failure, verdict.Reason, null, null);
            }

            mismatches.Add(verdict.Reason);
        }

        return new SigstoreVerdict(false, BundleFailure.Identity,
            identities.Count == 1 ? mismatches[0] : $"signed by none of the {identities.Count} trusted identities: {mismatches[0]}", null, null);
    }
}
