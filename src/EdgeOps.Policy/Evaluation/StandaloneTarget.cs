using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Policy.Evaluation;

/// <summary>A manifest read outside any fleet: where it came from and what it is.</summary>
public sealed record ManifestDocument(string File, int Document, MappingNode Body)
{
    public ObjectIdentity Id => ObjectIdentity.From(Body);
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
    /// Reads every document of a YAML text as a Kubernetes object; documents without apiVersion,
    /// kind or metadata.name are reported and skipped.
    /// </summary>
    public static IReadOnlyList<ManifestDocument> Read(string path, string text, DiagnosticBag diagnostics)
    {
        var result = new List<ManifestDocument>();
        var documents = YamlReader.ReadDocuments(path, text, diagnostics);
        for (var i = 0; i < documents.Count; i++)
        {
            switch (documents[i])
            {
                case null:
                    continue;
                case MappingNode map when map.GetString("apiVersion") is { Length: > 0 } && map.GetString("kind") is { Length: > 0 }
                    && (map["metadata"] as MappingNode)?.GetString("name") is { Length: > 0 }:
                    result.Add(new ManifestDocument(path, i, map));
                    break;
                case MappingNode map:
                    diagnostics.Error(map.Location, Codes.ManifestMissingName, "document is not a Kubernetes object: it needs apiVersion, kind and metadata.name");
                    break;
                default:
                    diagnostics.Error(documents[i]!.Location, Codes.ManifestNotAMapping, $"document must be a Kubernetes object (a mapping), not a {documents[i]!.TypeName}");
                    break;
            }
        }

        return result;
    }
}
