using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Policy.Evaluation;

/// <summary>An object to evaluate, with the context of the workload (or device config) that owns it.</summary>
public sealed record PolicySubject(ObjectIdentity Id, MappingNode Body, MappingNode? Workload, string OwnerKey);

/// <summary>
/// Everything policies see for one evaluation: the objects, and the cluster and fleet context.
/// Contexts are plain data trees; <see cref="PolicyContexts"/> builds them from the fleet model.
/// </summary>
public sealed record PolicyTarget(
    string? ClusterName,
    MappingNode? Cluster,
    MappingNode? Fleet,
    IReadOnlyList<PolicySubject> Objects,
    SourceLocation ClusterLocation)
{
    /// <summary>For cluster-level policies (<c>ctx.workloads</c>): the contexts of the workloads placed on the cluster, by name.</summary>
    public MappingNode? Workloads { get; init; }
}
