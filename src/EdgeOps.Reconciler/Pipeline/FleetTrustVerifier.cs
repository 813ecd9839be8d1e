using System.Text;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Sources;
using EdgeOps.Trust.Sigstore;
using EdgeOps.Trust.Ssh;
using LibGit2Sharp;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>
/// The default verify step: the fleet's own <c>spec.trust</c> decides. The rules and signers are read from
/// the revision this cluster already trusts (the applied one), never from the revision being judged, so a
/// push cannot bless itself: changing the signers takes a commit signed by a key the old list allows. On
/// the very first sync there is nothing trusted yet, and the candidate's own rules are used (trust on first
/// use) — pin the signers with <c>--allowed-signers</c> to avoid that. In <c>sigstore</c> mode a revision is
/// signed by a Sigstore bundle over its commit ID (the 40 lower-case hex digits, as UTF-8), attached to the
/// commit as a Git note under <see cref="SignatureNotes"/>, by one of the fleet's Sigstore identities.
/// </summary>
/// <param name="subPath">The fleet's folder inside the repository ("" for its root).</param>
public sealed class FleetTrustVerifier(string subPath = "") : IRevisionVerifier
{
    /// <summary>The notes ref that carries the Sigstore bundles of signed revisions.</summary>
    public const string SignatureNotes = "refs/notes/edgeops-signatures";

    public static readonly FleetTrustVerifier Instance = new();

    public RevisionVerdict Verify(Repository repository, string revision, string? trustedRevision)
    {
        var anchor = trustedRevision ?? revision;
        TrustSettings trust;
        AllowedSigners? signers;
        using (var source = GitTreeFleetSource.FromRepository(new Repository(repository.Info.Path), anchor, subPath))
        {
            var files = new FleetFiles(source);
            var bag = new DiagnosticBag();
            trust = new FleetLoader().Load(files, bag).Settings.Trust;
            if (!trust.RequireSignedRevisions)
            {
                return new RevisionVerdict(true, "the fleet does not require signed revisions");
            }

            if (trust.SigstoreSignedRevisions)
            {
                var sigstore = SigstoreVerifier(files, trust, out var why);
                var sigstoreVerdict = sigstore is null
                    ? new RevisionVerdict(false, $"{Origin(anchor, trustedRevision)}: {why}")
                    : VerifyBundle(repository, revision, sigstore);
                return trustedRevision is null && sigstoreVerdict.Accepted
                    ? sigstoreVerdict with { Reason = sigstoreVerdict.Reason + " (identities trusted on first use)" }
                    : sigstoreVerdict;
            }

            if (trust.AllowedSigners is not { } path)
            {
                return new RevisionVerdict(false, $"{Origin(anchor, trustedRevision)} requires signed revisions but names no trust.allowedSigners");
            }

            signers = ReadSigners(files, path, out var problem);
            if (signers is null)
            {
                return new RevisionVerdict(false, $"{Origin(anchor, trustedRevision)}: {problem}");
            }
        }

        var verdict = SshRevisionVerifier.Verify(repository, revision, signers);
        return trustedRevision is null && verdict.Accepted
            ? verdict with { Reason = verdict.Reason + " (signers trusted on first use)" }
            : verdict;
    }

    /// <summary>The revision's Sigstore bundle from the signature notes, verified over its commit ID.</summary>
    public static RevisionVerdict VerifyBundle(Repository repository, string revision, FleetSigstoreVerifier verifier)
    {
        var commit = repository.Lookup<Commit>(revision);
        if (commit is null)
        {
            return new RevisionVerdict(false, $"revision {revision} is not a commit");
        }

        var note = repository.Notes[SignatureNotes, commit.Id];
        if (note is null)
        {
            return new RevisionVerdict(false, $"commit {commit.Sha[..12]} has no Sigstore bundle in {SignatureNotes}");
        }

        var verdict = verifier.Verify(Encoding.UTF8.GetBytes(note.Message), ArtifactInput.FromBytes(Encoding.UTF8.GetBytes(commit.Sha)));
        if (!verdict.Verified)
        {
            return new RevisionVerdict(false, $"commit {commit.Sha[..12]}: its Sigstore bundle is rejected ({verdict.Failure.Name()}): {verdict.Reason}");
        }

        var signed = verdict.Signature!;
        var when = signed.SigningTimes.Count > 0 ? $" at {signed.SigningTimes[0]:O}" : string.Empty;
        return new RevisionVerdict(true, $"commit {commit.Sha[..12]} signed by {signed.Identity} (issuer {signed.Issuer}){when}", Signed: true);
    }

    /// <summary>The fleet's Sigstore identities and trusted root; null and why if the root cannot be read.</summary>
    public static FleetSigstoreVerifier? SigstoreVerifier(FleetFiles files, TrustSettings trust, out string? problem)
    {
        problem = null;
        if (trust.SigstoreIdentities.IsEmpty)
        {
            problem = "requires Sigstore-signed revisions but names no trust.sigstore.identities";
            return null;
        }

        var root = TrustedRoot.PublicGood;
        if (trust.TrustedRoot is { } path)
        {
            var entry = files.Resolve(path.Value, out var error);
            if (entry is null || entry.Kind != FleetEntryKind.File)
            {
                problem = $"{path.Location}: error {Codes.FileNotFound}: trust.sigstore.trustedRoot '{path.Value}' {error ?? "is not a file"}";
                return null;
            }

            try
            {
                root = TrustedRoot.Parse(Encoding.UTF8.GetString(files.Source.ReadAllBytes(entry.Path)));
            }
            catch (FormatException e)
            {
                problem = $"{path.Location}: error {Codes.TrustedRootInvalid}: {e.Message}";
                return null;
            }
        }

        return new FleetSigstoreVerifier(root, trust.SigstoreIdentities);
    }

    /// <summary>Reads an allowed_signers file from the fleet; null and why if it is missing or has a bad line.</summary>
    public static AllowedSigners? ReadSigners(FleetFiles files, Located<string> path, out string? problem)
    {
        var entry = files.Resolve(path.Value, out var error);
        if (entry is null || entry.Kind != FleetEntryKind.File)
        {
            problem = $"{path.Location}: error {Codes.FileNotFound}: trust.allowedSigners '{path.Value}' {error ?? "is not a file"}";
            return null;
        }

        var signers = AllowedSigners.Parse(Encoding.UTF8.GetString(files.Source.ReadAllBytes(entry.Path)));
        if (signers.Problems.Count > 0)
        {
            var first = signers.Problems[0];
            problem = $"{entry.Path}:{first.Line}:1: error {Codes.AllowedSignersSyntax}: {first.Message}";
            return null;
        }

        problem = null;
        return signers;
    }

    private static string Origin(string anchor, string? trustedRevision) =>
        trustedRevision is null ? $"revision {anchor[..Math.Min(12, anchor.Length)]}" : $"the applied revision {anchor[..Math.Min(12, anchor.Length)]}";
}
