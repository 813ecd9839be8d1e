using LibGit2Sharp;

namespace EdgeOps.Reconciler.Pipeline;

/// <param name="Signed">Accepted because of a good signature (the reason then names the signer).</param>
public sealed record RevisionVerdict(bool Accepted, string Reason, bool Signed = false)
{
    public static readonly RevisionVerdict Accept = new(true, "accepted");
}

/// <summary>
/// The verify step: may this revision be applied at all (who signed it)? <paramref name="trustedRevision"/>
/// in <see cref="Verify"/> is the revision already applied, if any: the last one this cluster trusted.
/// </summary>
public interface IRevisionVerifier
{
    RevisionVerdict Verify(Repository repository, string revision, string? trustedRevision);
}

public sealed class AcceptAllVerifier : IRevisionVerifier
{
    public static readonly AcceptAllVerifier Instance = new();

    public RevisionVerdict Verify(Repository repository, string revision, string? trustedRevision) => RevisionVerdict.Accept;
}
