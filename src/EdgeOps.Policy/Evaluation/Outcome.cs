using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Policy.Loading;

namespace EdgeOps.Policy.Evaluation;

/// <summary>An object a cluster-level violation names, by identity.</summary>
internal sealed record ObjectReference(string? Kind, string? Namespace, string? Name);

internal sealed record RawViolation(string? Control, PolicySeverity Severity, string Message, string? Path, ObjectReference? Object);

/// <summary>A policy that could not give an answer: it threw, hit a limit or returned nonsense.</summary>
internal sealed record PolicyFailure(string Code, string Message, SourceLocation Location);

/// <summary>The result of one policy call, cacheable: it depends only on the subject and the context values it read.</summary>
internal sealed record Outcome(
    ImmutableArray<RawViolation> Violations,
    PolicyFailure? Failure,
    ImmutableArray<KeyValuePair<string, string>> Facts,
    ImmutableArray<string> Dependencies);
