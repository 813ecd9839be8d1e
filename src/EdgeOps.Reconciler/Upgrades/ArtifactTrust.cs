using System.Text;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Sources;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Trust.Sigstore;

namespace EdgeOps.Reconciler.Upgrades;

/// <summary>
/// Why an upgrade artifact may not be staged. <see cref="IsError"/> is false for an unsigned artifact in a fleet
/// that names no signer (validate warns; the agent still refuses); <see cref="NamedElsewhere"/> marks a missing
/// file that the loader already reports where it is named.
/// </summary>
public sealed record ArtifactFinding(string Code, SourceLocation Location, string Message, bool IsError = true, bool NamedElsewhere = false);

/// <summary>
/// The fleet's rule for upgrade artifacts, shared by <c>edgeops validate</c> (in CI, on the pinned digest)
/// and the agent (before anything is written to a slot): the plan's Sigstore bundle must prove the pinned
/// sha256 digest was signed by one of <c>spec.trust.sigstore.identities</c> under the fleet's trusted root.
/// Findings: EO7003 unsigned, EO7004 uncheckable, EO7005 rejected, EO7006 unreadable trusted root.
/// </summary>
public sealed class ArtifactTrust
{
    private readonly FleetModel _fleet;
    private readonly FleetFiles _files;
    private readonly FleetSigstoreVerifier? _verifier;

    private ArtifactTrust(FleetModel fleet, FleetFiles files, FleetSigstoreVerifier? verifier, ArtifactFinding? rootFinding)
    {
        _fleet = fleet;
        _files = files;
        _verifier = verifier;
        RootFinding = rootFinding;
    }

    /// <summary>Set when the fleet's trusted root cannot be read: then no bundle can be checked.</summary>
    public ArtifactFinding? RootFinding { get; }

    public static ArtifactTrust For(FleetModel fleet, FleetFiles files, TimeProvider? clock = null)
    {
        var trust = fleet.Settings.Trust;
        if (trust.TrustedRoot is not { } path)
        {
            return new ArtifactTrust(fleet, files, new FleetSigstoreVerifier(TrustedRoot.PublicGood, trust.SigstoreIdentities, clock), null);
        }

        if (files.Resolve(path.Value, out _) is not { Kind: FleetEntryKind.File } entry)
        {
            // The loader reports a missing file where it is named.
            return new ArtifactTrust(fleet, files, null, new ArtifactFinding(Codes.TrustedRootInvalid, path.Location, $"{path.Value}: the trusted root is missing", NamedElsewhere: true));
        }

        try
        {
            var root = TrustedRoot.Parse(Encoding.UTF8.GetString(files.Source.ReadAllBytes(entry.Path)));
            return new ArtifactTrust(fleet, files, new FleetSigstoreVerifier(root, trust.SigstoreIdentities, clock), null);
        }
        catch (FormatException e)
        {
            return new ArtifactTrust(fleet, files, null, new ArtifactFinding(Codes.TrustedRootInvalid, path.Location, $"{path.Value}: {e.Message}"));
        }
    }

    /// <summary>Null when the plan's pinned digest is proven by its bundle; otherwise what is wrong, at the line to fix.</summary>
    public ArtifactFinding? Check(UpgradePlan plan)
    {
        var artifact = plan.Artifact;
        var identities = _fleet.Settings.Trust.SigstoreIdentities;
        var name = $"UpgradePlan '{plan.Name}'";
        if (artifact.Bundle is not { } bundlePath)
        {
            return new ArtifactFinding(Codes.UnsignedUpgradeArtifact, artifact.Digest.Location,
                $"{name}: the artifact has no Sigstore bundle (spec.artifact.bundle); the reconciler stages only signed artifacts",
                IsError: !identities.IsEmpty);
        }

        if (identities.IsEmpty)
        {
            return new ArtifactFinding(Codes.UpgradeArtifactUnverifiable, bundlePath.Location,
                $"{name}: the bundle cannot be verified because spec.trust.sigstore.identities names no signer");
        }

        if (!artifact.Digest.Value.StartsWith("sha256:", StringComparison.Ordinal))
        {
            return new ArtifactFinding(Codes.UpgradeArtifactUnverifiable, artifact.Digest.Location,
                $"{name}: Sigstore signs SHA-256 digests; pin the artifact by sha256 to verify its bundle");
        }

        if (_verifier is null)
        {
            return RootFinding;
        }

        if (_files.Resolve(bundlePath.Value, out _) is not { Kind: FleetEntryKind.File } entry)
        {
            return new ArtifactFinding(Codes.UpgradeArtifactUnverifiable, bundlePath.Location, $"{name}: the bundle {bundlePath.Value} is missing", NamedElsewhere: true);
        }

        var verdict = _verifier.Verify(_files.Source.ReadAllBytes(entry.Path), ArtifactInput.FromDigest(artifact.Digest.Value));
        return verdict.Verified
            ? null
            : new ArtifactFinding(Codes.UpgradeArtifactRejected, bundlePath.Location,
                $"{name}: the bundle does not prove artifact {artifact.Digest.Value} ({verdict.Failure.Name()}): {verdict.Reason}");
    }
}
