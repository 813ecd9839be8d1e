using System.Collections.Frozen;

namespace EdgeOps.Fleet.Rendering;

/// <summary>The API groups every Kubernetes API server serves by itself, without a CustomResourceDefinition.</summary>
public static class BuiltInApis
{
    private static readonly FrozenSet<string> Groups = FrozenSet.Create(StringComparer.Ordinal,
        string.Empty, "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
        "storage.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io", "scheduling.k8s.io",
        "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io", "events.k8s.io", "certificates.k8s.io",
        "flowcontrol.apiserver.k8s.io", "apiregistration.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
        "resource.k8s.io", "internal.apiserver.k8s.io", "storagemigration.k8s.io");

    public static bool Serves(string group) => Groups.Contains(group);
}
