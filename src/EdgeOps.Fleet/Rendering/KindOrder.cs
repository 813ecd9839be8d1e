namespace EdgeOps.Fleet.Rendering;

/// <summary>
/// The order objects are listed and applied in: CRDs, Namespaces, other cluster-scoped objects,
/// namespaced objects (in the order that lets each find what it needs), admission webhooks last.
/// </summary>
public static class KindOrder
{
    private static readonly HashSet<string> ClusterScopedKinds = new(StringComparer.Ordinal)
    {
        "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
        "StorageClass", "PriorityClass", "RuntimeClass", "IngressClass", "CSIDriver", "CSINode", "VolumeAttachment",
        "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "PodSecurityPolicy",
        "CertificateSigningRequest", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "FlowSchema",
        "PriorityLevelConfiguration", "ComponentStatus",
    };

    private static readonly string[] NamespacedOrder =
    [
        "ResourceQuota", "LimitRange", "ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim", "Role",
        "RoleBinding", "Service", "Endpoints", "EndpointSlice", "NetworkPolicy", "PodDisruptionBudget", "DaemonSet",
        "Pod", "ReplicationController", "ReplicaSet", "Deployment", "StatefulSet", "HorizontalPodAutoscaler", "Job",
        "CronJob", "Ingress",
    ];

    private static readonly Dictionary<string, int> NamespacedRank =
        NamespacedOrder.Select((k, i) => (k, i)).ToDictionary(p => p.k, p => p.i, StringComparer.Ordinal);

    public static bool IsCustomResourceDefinition(ObjectIdentity id) =>
        id.Kind == "CustomResourceDefinition" && id.Group == "apiextensions.k8s.io";

    public static bool IsKnownClusterScoped(string kind) => ClusterScopedKinds.Contains(kind);

    /// <summary>The stage an object is applied in: 0 CRDs, 1 Namespaces, 2 cluster-scoped, 3 namespaced, 4 webhooks.</summary>
    public static int Stage(ObjectIdentity id, bool clusterScoped) => id.Kind switch
    {
        "CustomResourceDefinition" => 0,
        "Namespace" => 1,
        "MutatingWebhookConfiguration" or "ValidatingWebhookConfiguration" => 4,
        _ => clusterScoped ? 2 : 3,
    };

    public static int RankWithinStage(string kind) => NamespacedRank.TryGetValue(kind, out var rank) ? rank : NamespacedOrder.Length;
}
