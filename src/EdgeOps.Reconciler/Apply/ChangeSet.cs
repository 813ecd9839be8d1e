using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Rendering;

namespace EdgeOps.Reconciler.Apply;

public enum ChangeAction
{
    Created,
    Configured,
    Unchanged,
    Deleted,
    Failed,
}

/// <summary>What happened to one object in an apply or prune, and why when it failed.</summary>
public sealed record ObjectChange(ObjectIdentity Id, ChangeAction Action, string? Reason = null, SourceLocation? Location = null);

/// <summary>Everything one apply did, object by object (as Flux's ssa change set).</summary>
public sealed record ChangeSet(ImmutableArray<ObjectChange> Changes)
{
    public static readonly ChangeSet Empty = new([]);

    public bool HasFailures => Changes.Any(c => c.Action == ChangeAction.Failed);

    public int Count(ChangeAction action) => Changes.Count(c => c.Action == action);

    public override string ToString() =>
        string.Join(", ", Enum.GetValues<ChangeAction>().Select(a => (a, n: Count(a))).Where(p => p.n > 0).Select(p => $"{p.n} {p.a.ToString().ToLowerInvariant()}"));
}
