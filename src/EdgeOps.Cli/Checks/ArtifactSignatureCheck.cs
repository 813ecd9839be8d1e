using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Reconciler.Upgrades;

namespace EdgeOps.Cli.Checks;

/// <summary>
/// Every UpgradePlan's artifact in CI, by the rule the agent applies before staging it
/// (<see cref="ArtifactTrust"/>): its Sigstore bundle must prove the pinned digest was signed by one of the
/// fleet's Sigstore identities under the fleet's trusted root.
/// </summary>
internal sealed class ArtifactSignatureCheck(TimeProvider? clock = null) : IFleetCheck
{
    public IClusterCheck Start(FleetModel fleet, FleetFiles files, DiagnosticBag diagnostics, CancellationToken cancellationToken)
    {
        if (fleet.UpgradePlans.IsEmpty)
        {
            return NoClusterCheck.Instance;
        }

        var trust = ArtifactTrust.For(fleet, files, clock);
        if (trust.RootFinding is { NamedElsewhere: false } root)
        {
            diagnostics.Error(root.Location, root.Code, root.Message);
        }

        foreach (var plan in fleet.UpgradePlans)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (trust.Check(plan) is not { } finding || finding.NamedElsewhere || finding == trust.RootFinding)
            {
                continue;
            }

            if (finding.IsError)
            {
                diagnostics.Error(finding.Location, finding.Code, finding.Message);
            }
            else
            {
                diagnostics.Warning(finding.Location, finding.Code, finding.Message);
            }
        }

        return NoClusterCheck.Instance;
    }
}
