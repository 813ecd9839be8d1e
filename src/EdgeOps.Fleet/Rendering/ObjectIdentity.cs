using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Rendering;

/// <summary>
/// What makes a Kubernetes object the same object: group, kind, namespace and name. The version is
/// carried but does not take part in identity (apps/v1 and apps/v1beta1 Deployments are one object).
/// </summary>
public sealed record ObjectIdentity(string Group, string Version, string Kind, string? Namespace, string Name)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public static ObjectIdentity From(MappingNode body)
    {
        var apiVersion = body.GetString("apiVersion") ?? string.Empty;
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? string.Empty : apiVersion[..slash];
        var version = slash < 0 ? apiVersion : apiVersion[(slash + 1)..];
        var metadata = body["metadata"] as MappingNode;
        var ns = metadata?.GetString("namespace");
        return new ObjectIdentity(group, version, body.GetString("kind") ?? string.Empty, string.IsNullOrEmpty(ns) ? null : ns,
            metadata?.GetString("name") ?? string.Empty);
    }

    public bool Equals(ObjectIdentity? other) =>
        other is not null
        && string.Equals(Group, other.Group, StringComparison.Ordinal)
        && string.Equals(Kind, other.Kind, StringComparison.Ordinal)
        && string.Equals(Namespace, other.Namespace, StringComparison.Ordinal)
        && string.Equals(Name, other.Name, StringComparison.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Group, Kind, Namespace, Name);

    /// <summary>kubectl-style: <c>Deployment.apps vision/detector</c>.</summary>
    public override string ToString()
    {
        var kind = Group.Length == 0 ? Kind : $"{Kind}.{Group}";
        return Namespace is null ? $"{kind} {Name}" : $"{kind} {Namespace}/{Name}";
    }
}
