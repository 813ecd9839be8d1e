using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Policy.Loading;

namespace EdgeOps.Policy.Evaluation;

/// <summary>
/// One thing a policy found wrong: which policy and control, how bad, the object and the JSON path
/// of the offending value, the cluster, and the manifest line that value came from.
/// </summary>
public sealed record PolicyViolation(
    string Policy,
    string? Control,
    PolicySeverity Severity,
    string Message,
    ObjectIdentity? Object,
    string? Path,
    string? Cluster,
    SourceLocation Location,
    string PolicyFile)
{
    /// <summary><c>policy/control</c>, or the policy alone.</summary>
    public string Rule => Control is null ? Policy : $"{Policy}/{Control}";
}

/// <summary>What evaluating the policies for one cluster (or one set of objects) gave.</summary>
public sealed record PolicyEvaluation(
    ImmutableArray<PolicyViolation> Violations,
    ImmutableArray<Diagnostic> Errors,
    ImmutableSortedDictionary<string, string> Facts)
{
    public bool HasErrors => Violations.Any(v => v.Severity == PolicySeverity.Error) || Errors.Any(e => e.IsError);
}
