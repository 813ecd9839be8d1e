using System.Text;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Trust.Ssh;
using LibGit2Sharp;

namespace EdgeOps.Cli.Checks;

/// <summary>
/// The fleet's trust settings in CI: every line of the allowed_signers file must read (EO7001), and with
/// <c>--verify-signatures</c> the validated commit must be signed as the reconciler will demand — by a key
/// that the signers of its first parent allow, as a reconciler running the parent would judge it (EO7002).
/// </summary>
internal sealed class TrustCheck(string fleetPath, string? revision, bool verifySignatures) : IFleetCheck
{
    public IClusterCheck Start(FleetModel fleet, FleetFiles files, DiagnosticBag diagnostics, CancellationToken cancellationToken)
    {
        var trust = fleet.Settings.Trust;
        if (trust.AllowedSigners is { } path && files.Resolve(path.Value, out _) is { Kind: FleetEntryKind.File } entry)
        {
            var signers = AllowedSigners.Parse(Encoding.UTF8.GetString(files.Source.ReadAllBytes(entry.Path)));
            foreach (var problem in signers.Problems)
            {
                diagnostics.Error(new SourceLocation(entry.Path, problem.Line, 1), Codes.AllowedSignersSyntax, problem.Message);
            }
        }

        if (verifySignatures)
        {
            VerifyRevision(fleet, diagnostics);
        }

        return NoClusterCheck.Instance;
    }

    private void VerifyRevision(FleetModel fleet, DiagnosticBag diagnostics)
    {
        var trust = fleet.Settings.Trust;
        var location = trust.AllowedSigners?.Location
            ?? (trust.CommitsLocation.IsKnown ? trust.CommitsLocation
            : fleet.Settings.Location.IsKnown ? fleet.Settings.Location : SourceLocation.FileStart("fleet.yaml"));
        if (!trust.RequireSignedRevisions || (trust.AllowedSigners is null && !trust.SigstoreSignedRevisions))
        {
            diagnostics.Error(location, Codes.RevisionNotTrusted, "signatures were asked to be verified, but the fleet requires no signed revisions (set spec.trust.commits)");
            return;
        }

        var root = GitTreeFleetSource.Discover(fleetPath);
        if (root is null)
        {
            diagnostics.Error(location, Codes.RevisionNotTrusted, $"signatures were asked to be verified, but '{fleetPath}' is not in a Git repository");
            return;
        }

        using var repository = new Repository(root);
        var commit = repository.Lookup<Commit>(revision ?? "HEAD");
        if (commit is null)
        {
            diagnostics.Error(location, Codes.RevisionNotTrusted, $"revision '{revision ?? "HEAD"}' is not a commit");
            return;
        }

        var parent = commit.Parents.FirstOrDefault()?.Sha;
        var subPath = repository.Info.WorkingDirectory is { } workTree
            ? Path.GetRelativePath(workTree, Path.GetFullPath(fleetPath)).Replace('\\', '/')
            : string.Empty;
        var verifier = new FleetTrustVerifier(subPath == "." ? string.Empty : subPath);
        var verdict = verifier.Verify(repository, commit.Sha, parent);
        if (!verdict.Accepted)
        {
            var judge = parent is null ? "its own signers (first commit)" : $"the signers of its parent {parent[..12]}";
            diagnostics.Error(location, Codes.RevisionNotTrusted, $"commit {commit.Sha[..12]} would be refused by the reconciler, judged by {judge}: {verdict.Reason}");
        }
    }
}
