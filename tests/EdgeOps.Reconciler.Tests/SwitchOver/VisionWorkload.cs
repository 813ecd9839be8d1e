namespace EdgeOps.Reconciler.Tests.SwitchOver;

/// <summary>The BlueGreen test workload: a detector Deployment, optionally asking for an Akri device, its Services and a ConfigMap.</summary>
internal static class VisionWorkload
{
    public static string Strategy(string retention, string extra = "") =>
        $"upgradeStrategy:\n  type: BlueGreen\n  preInitialize: true\n  blueRetention: {retention}{extra}";

    /// <summary>The manifests; <paramref name="device"/> names an Akri resource the container asks for (null: none).</summary>
    public static string Manifests(string ns, string image, string? device = null, string? config = null, bool metricsService = false)
    {
        var resources = device is null ? string.Empty : $"\n          resources:\n            limits: {{akri.sh/{device}: \"1\"}}";
        var text = $$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: vision, namespace: {{ns}}}
            spec:
              replicas: 1
              selector:
                matchLabels: {app: vision}
              template:
                metadata:
                  labels: {app: vision}
                spec:
                  containers:
                    - name: detector
                      image: {{image}}{{resources}}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: vision, namespace: {{ns}}}
            spec:
              selector: {app: vision}
              ports: [{port: 80}]

            """;
        if (metricsService)
        {
            text += $"---\napiVersion: v1\nkind: Service\nmetadata: {{name: vision-metrics, namespace: {ns}}}\nspec:\n  selector: {{app: vision}}\n  ports: [{{port: 9100}}]\n";
        }

        if (config is not null)
        {
            text += $"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: vision-config, namespace: {ns}}}\ndata: {{threshold: \"{config}\"}}\n";
        }

        return text;
    }
}
