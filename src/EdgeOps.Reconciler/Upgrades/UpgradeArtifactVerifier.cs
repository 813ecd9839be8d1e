using EdgeOps.Fleet.Model;
using EdgeOps.Trust.Sigstore;

namespace EdgeOps.Reconciler.Upgrades;

/// <summary>The outcome for one upgrade artifact: verified by whom, or why not.</summary>
public sealed record ArtifactVerdict(bool Verified, BundleFailure Failure, string Reason, SigstoreIdentity? Signer, VerifiedSignature? Signature);

/// <summary>
/// The rule an upgrade artifact must pass before anything is staged: its Sigstore bundle proves the artifact
/// (its bytes, or the digest the UpgradePlan pins) was signed by one of the fleet's Sigstore identities
/// (<c>spec.trust.sigstore.identities</c>) under the fleet's trusted root (<c>spec.trust.sigstore.trustedRoot</c>,
/// by default Sigstore's public-good instance). <c>edgeops validate</c> applies it in CI; the upgrade executor
/// applies it again to the downloaded bytes.
/// </summary>
public sealed class UpgradeArtifactVerifier(TrustedRoot root, IReadOnlyList<SigstoreIdentity> identities, TimeProvider? clock = null)
{
    private readonly BundleVerifier _verifier = new(root, clock);

    public ArtifactVerdict Verify(ReadOnlySpan<byte> bundle, ArtifactInput artifact)
    {
        if (identities.Count == 0)
        {
            return new ArtifactVerdict(false, BundleFailure.Identity, "spec.trust.sigstore.identities names no signer to accept", null, null);
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
                return new ArtifactVerdict(true, BundleFailure.None, verdict.Reason, identity, verdict.Signature);
            }

            if (verdict.Failure != BundleFailure.Identity)
            {
                // Not about who signed: no other identity would change the answer.
                return new ArtifactVerdict(false, verdict.Failure, verdict.Reason, null, null);
            }

            mismatches.Add(verdict.Reason);
        }

        return new ArtifactVerdict(false, BundleFailure.Identity,
            identities.Count == 1 ? mismatches[0] : $"signed by none of the {identities.Count} trusted identities: {mismatches[0]}", null, null);
    }
}
