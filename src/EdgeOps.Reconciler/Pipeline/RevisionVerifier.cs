using LibGit2Sharp;

namespace EdgeOps.Reconciler.Pipeline;

public sealed record RevisionVerdict(bool Accepted, string Reason)
{
    public static readonly RevisionVerdict Accept = new(true, "accepted");
}

/// <summary>
/// The verify step: may this revision be applied at all (who signed it)? Signature verification
/// (SSH commit signatures, Sigstore) plugs in here; until it does, every revision is accepted.
/// </summary>
public interface IRevisionVerifier
{
    RevisionVerdict Verify(Repository repository, string revision);
}

public sealed class AcceptAllVerifier : IRevisionVerifier
{
    public static readonly AcceptAllVerifier Instance = new();

    public RevisionVerdict Verify(Repository repository, string revision) => RevisionVerdict.Accept;
}
