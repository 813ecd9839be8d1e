using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Policy.Evaluation;

/// <summary>A manifest read outside any fleet: where it came from and what it is.</summary>
public sealed record ManifestDocument(string File, int Document, MappingNode Body)
{
    /// <summary>The object's identity; an object named only by generateName is shown as that prefix and '*'.</summary>
    public ObjectIdentity Id => ObjectIdentity.From(Body) is { Name.Length: 0 } id && (Body["metadata"] as MappingNode)?.GetString("generateName") is { Length: > 0 } prefix
        ? id with { Name = prefix + "*" }
        : ObjectIdentity.From(Body);
}

/// <summary>Builds evaluation targets for manifests that are not part of a fleet (check and test).</summary>
public static class StandaloneTarget
{
    public static PolicyTarget For(IEnumerable<ManifestDocument> documents, Cluster? cluster)
    {
        var subjects = documents.Select(d => new PolicySubject(d.Id, d.Body, null, "none")).ToList();
        return new PolicyTarget(cluster?.Name, cluster is null ? null : PolicyContexts.Cluster(cluster), null, subjects,
            cluster?.Metadata.Name.Location ?? SourceLocation.None);
    }

    /// <summary>
    /// Reads every document of a YAML (or JSON) text as Kubernetes objects, as kubectl does: a document
    /// may be one object, a <c>kind: List</c> (or any <c>…List</c>) whose items are objects, or an array of
    /// objects. An object needs apiVersion, kind and metadata.name or metadata.generateName; anything else
    /// is reported where it stands and skipped, and the rest is still read.
    /// </summary>
    public static IReadOnlyList<ManifestDocument> Read(string path, string text, DiagnosticBag diagnostics)
    {
        var result = new List<ManifestDocument>();
        var documents = YamlReader.ReadDocuments(path, text, diagnostics);
        for (var i = 0; i < documents.Count; i++)
        {
            Add(path, i, documents[i], result, diagnostics, nested: false);
        }

        return result;
    }

    private static void Add(string path, int document, Node? node, List<ManifestDocument> result, DiagnosticBag diagnostics, bool nested)
    {
        switch (node)
        {
            case null:
                return;
            case SequenceNode items when !nested:
                foreach (var item in items.Items)
                {
                    Add(path, document, item, result, diagnostics, nested: true);
                }

                return;
            case MappingNode list when !nested && list.GetString("kind") is { } kind && kind.EndsWith("List", StringComparison.Ordinal) && list["items"] is SequenceNode listItems:
                foreach (var item in listItems.Items)
                {
                    Add(path, document, item, result, diagnostics, nested: true);
                }

                return;
            case MappingNode map when map.GetString("apiVersion") is { Length: > 0 } && map.GetString("kind") is { Length: > 0 }
                && map["metadata"] is MappingNode metadata && (metadata.GetString("name") is { Length: > 0 } || metadata.GetString("generateName") is { Length: > 0 }):
                result.Add(new ManifestDocument(path, document, map));
                return;
            case MappingNode map:
                diagnostics.Error(map.Location, Codes.ManifestMissingName, "document is not a Kubernetes object: it needs apiVersion, kind and metadata.name (or metadata.generateName)");
                return;
            default:
                diagnostics.Error(node.Location, Codes.ManifestNotAMapping, $"document must be a Kubernetes object (a mapping), not a {node.TypeName}");
                return;
        }
    }
}
