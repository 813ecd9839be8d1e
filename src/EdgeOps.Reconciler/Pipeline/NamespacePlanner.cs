using System.Collections.Frozen;
using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>
/// Namespaces that the desired state puts objects into but that no manifest ships are created by the
/// agent (as Argo CD's CreateNamespace option does), labelled as the fleet's and annotated as made by
/// the agent, so that prune can tell them from the cluster's own.
/// </summary>
public static class NamespacePlanner
{
    public const string CreatedAnnotation = "edgeops.io/created-namespace";

    /// <summary>Namespaces every cluster has; the agent never creates or owns them.</summary>
    private static readonly FrozenSet<string> BuiltIn = FrozenSet.Create(StringComparer.Ordinal, "default", "kube-system", "kube-public", "kube-node-lease");

    public static IReadOnlyList<RenderedObject> Complete(IReadOnlyList<RenderedObject> objects, string fleet)
    {
        var shipped = objects.Where(o => o.Id.Group.Length == 0 && o.Id.Kind == "Namespace").Select(o => o.Id.Name).ToHashSet(StringComparer.Ordinal);
        var missing = new SortedDictionary<string, RenderedObject>(StringComparer.Ordinal);
        foreach (var o in objects)
        {
            if (!o.ClusterScoped && o.Id.Namespace is { Length: > 0 } ns && !shipped.Contains(ns) && !BuiltIn.Contains(ns) && !missing.ContainsKey(ns))
            {
                missing[ns] = o;
            }
        }

        if (missing.Count == 0)
        {
            return objects;
        }

        var created = missing.Select(p => Namespace(p.Key, fleet, p.Value));
        return [.. created.Concat(objects).OrderBy(o => o.Stage)];
    }

    private static RenderedObject Namespace(string name, string fleet, RenderedObject firstUser)
    {
        var at = firstUser.Body.Location;
        var body = Mapping(at,
            ("apiVersion", Text("v1", at)),
            ("kind", Text("Namespace", at)),
            ("metadata", Mapping(at,
                ("name", Text(name, at)),
                ("labels", Mapping(at, (FleetApi.FleetLabel, Text(fleet, at)), (FleetApi.WorkloadLabel, Text(firstUser.Owner, at)))),
                ("annotations", Mapping(at, (CreatedAnnotation, Text("true", at)))))));
        return new RenderedObject(ObjectIdentity.From(body), body, firstUser.Owner, firstUser.OwnerKind, ClusterScoped: true);
    }

    private static ScalarNode Text(string value, SourceLocation at) => ScalarNode.String(value, at);

    private static MappingNode Mapping(SourceLocation at, params (string Key, Node Value)[] entries) =>
        new([.. entries.Select(e => new KeyValuePair<ScalarNode, Node>(ScalarNode.String(e.Key, at), e.Value))], at);
}
