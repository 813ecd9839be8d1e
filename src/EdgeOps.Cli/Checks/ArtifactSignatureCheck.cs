using System.Text;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Trust.Sigstore;

namespace EdgeOps.Cli.Checks;

/// <summary>
/// Every UpgradePlan's artifact in CI: its Sigstore bundle must prove the pinned digest was signed by one of
/// the fleet's Sigstore identities under the fleet's trusted root — the same rule the reconciler applies
/// before staging (EO7003 unsigned, EO7004 uncheckable, EO7005 rejected, EO7006 unreadable trusted root).
/// </summary>
internal sealed class ArtifactSignatureCheck(TimeProvider? clock = null) : IFleetCheck
{
    public IClusterCheck Start(FleetModel fleet, FleetFiles files, DiagnosticBag diagnostics, CancellationToken cancellationToken)
    {
        if (fleet.UpgradePlans.IsEmpty)
        {
            return NoClusterCheck.Instance;
        }

        var trust = fleet.Settings.Trust;
        var root = ReadTrustedRoot(trust, files, diagnostics);
        var verifier = root is null ? null : new FleetSigstoreVerifier(root, trust.SigstoreIdentities, clock);
        foreach (var plan in fleet.UpgradePlans)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var artifact = plan.Artifact;
            var name = $"UpgradePlan '{plan.Name}'";
            if (artifact.Bundle is not { } bundlePath)
            {
                var message = $"{name}: the artifact has no Sigstore bundle (spec.artifact.bundle); the reconciler stages only signed artifacts";
                if (trust.SigstoreIdentities.IsEmpty)
                {
                    diagnostics.Warning(artifact.Digest.Location, Codes.UnsignedUpgradeArtifact, message);
                }
                else
                {
                    diagnostics.Error(artifact.Digest.Location, Codes.UnsignedUpgradeArtifact, message);
                }

                continue;
            }

            if (trust.SigstoreIdentities.IsEmpty)
            {
                diagnostics.Error(bundlePath.Location, Codes.UpgradeArtifactUnverifiable,
                    $"{name}: the bundle cannot be verified because spec.trust.sigstore.identities names no signer");
                continue;
            }

            if (!artifact.Digest.Value.StartsWith("sha256:", StringComparison.Ordinal))
            {
                diagnostics.Error(artifact.Digest.Location, Codes.UpgradeArtifactUnverifiable,
                    $"{name}: Sigstore signs SHA-256 digests; pin the artifact by sha256 to verify its bundle");
                continue;
            }

            if (verifier is null || files.Resolve(bundlePath.Value, out _) is not { Kind: FleetEntryKind.File } entry)
            {
                continue; // an unreadable root or a missing bundle file is reported where it is named
            }

            var verdict = verifier.Verify(files.Source.ReadAllBytes(entry.Path), ArtifactInput.FromDigest(artifact.Digest.Value));
            if (!verdict.Verified)
            {
                diagnostics.Error(bundlePath.Location, Codes.UpgradeArtifactRejected,
                    $"{name}: the bundle does not prove artifact {artifact.Digest.Value} ({verdict.Failure.Name()}): {verdict.Reason}");
            }
        }

        return NoClusterCheck.Instance;
    }

    private static TrustedRoot? ReadTrustedRoot(TrustSettings trust, FleetFiles files, DiagnosticBag diagnostics)
    {
        if (trust.TrustedRoot is not { } path)
        {
            return TrustedRoot.PublicGood;
        }

        if (files.Resolve(path.Value, out _) is not { Kind: FleetEntryKind.File } entry)
        {
            return null;
        }

        try
        {
            return TrustedRoot.Parse(Encoding.UTF8.GetString(files.Source.ReadAllBytes(entry.Path)));
        }
        catch (FormatException e)
        {
            diagnostics.Error(path.Location, Codes.TrustedRootInvalid, $"{path.Value}: {e.Message}");
            return null;
        }
    }
}
