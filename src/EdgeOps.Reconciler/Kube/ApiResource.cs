namespace EdgeOps.Reconciler.Kube;

/// <summary>A kind the API server serves: where its objects live (plural resource name) and whether they are namespaced.</summary>
public sealed record ApiResource(string Group, string Version, string Kind, string Plural, bool Namespaced)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The REST path of one object, or of the collection when <paramref name="name"/> is null.</summary>
    public string Path(string? ns, string? name)
    {
        var root = Group.Length == 0 ? $"/api/{Version}" : $"/apis/{Group}/{Version}";
        var scope = Namespaced && ns is not null ? $"/namespaces/{Uri.EscapeDataString(ns)}" : string.Empty;
        var suffix = name is null ? string.Empty : "/" + Uri.EscapeDataString(name);
        return $"{root}{scope}/{Plural}{suffix}";
    }
}
