using System.Globalization;
using System.Text;

namespace EdgeOps.Bench;

/// <summary>
/// Writes a synthetic but realistic fleet: clusters across twelve countries and three tiers with
/// locations near their site, workloads placed by selectors, radii, geofences and devices, with
/// values, variables and overlays. The same seed gives the same fleet.
/// </summary>
internal sealed class FleetGenerator(int clusterCount, int workloadCount, int seed, bool policies)
{
    private static readonly (string Code, string Region, string Zone, double Lat, double Lon)[] Countries =
    [
        ("ES", "eu-south", "Europe/Madrid", 41.6, 0.6), ("IT", "eu-south", "Europe/Rome", 46.1, 11.1),
        ("FR", "eu-west", "Europe/Paris", 44.0, 4.8), ("PT", "eu-south", "Europe/Lisbon", 39.4, -8.2),
        ("DE", "eu-central", "Europe/Berlin", 53.5, 9.7), ("PL", "eu-central", "Europe/Warsaw", 51.9, 20.9),
        ("NL", "eu-west", "Europe/Amsterdam", 51.9, 5.2), ("NZ", "oceania", "Pacific/Auckland", -39.6, 176.8),
        ("AU", "oceania", "Australia/Sydney", -36.4, 145.4), ("CL", "americas", "America/Santiago", -34.6, -71.0),
        ("US", "americas", "America/Los_Angeles", 46.6, -120.5), ("ZA", "africa", "Africa/Johannesburg", -33.9, 19.1),
    ];

    /// <summary>The whole built-in library, with parameters the generated fleet satisfies.</summary>
    private const string PolicySettings = """
          policies:
            builtIn:
              - pod-security-baseline
              - pod-security-restricted
              - image-provenance
              - resources
              - cost-budget
              - data-residency
              - device-access
            parameters:
              image-provenance:
                allowedRegistries: [registry.example.com, ghcr.io/project-akri]
                digestRequiredTiers: [micro]
              data-residency:
                classes:
                  personal: [ES, IT, FR, PT, DE, PL, NL]
              device-access:
                devicePaths: {/dev/video: usb-camera}

        """;

    private readonly Random _random = new(seed);

    public int WriteTo(string root)
    {
        Directory.CreateDirectory(root);
        var files = 0;
        Write(root, "fleet.yaml", """
            apiVersion: edgeops.io/v1alpha1
            kind: Fleet
            metadata:
              name: synthetic
            spec:
              defaults:
                syncInterval: 5m
                healthTimeout: 5m

            """ + (policies ? PolicySettings : string.Empty));
        files++;

        for (var i = 0; i < clusterCount; i++)
        {
            Write(root, $"clusters/c{i:D5}.yaml", Cluster(i));
            files++;
        }

        for (var w = 0; w < workloadCount; w++)
        {
            var (workload, manifests) = Workload(w);
            Write(root, $"workloads/w{w:D3}/workload.yaml", workload);
            Write(root, $"workloads/w{w:D3}/manifests.yaml", manifests);
            files += 2;
        }

        Write(root, "devices/usb-camera.yaml", """
            apiVersion: edgeops.io/v1alpha1
            kind: DeviceConfig
            metadata:
              name: usb-camera
            spec:
              placement:
                clusterSelector:
                  matchLabels:
                    tier: micro
              discovery:
                handler: udev
                details:
                  udevRules: ['KERNEL=="video[0-9]*"']
              broker:
                pod:
                  containers:
                    - name: broker
                      image: ghcr.io/project-akri/akri/udev-video-broker:v0.13.8@sha256:c995d7eb0bcae74cceddeca259d80cffdcf802d6b2a4c6e3d1d7a3b1c0c8a9f0
                      securityContext:
                        allowPrivilegeEscalation: false
                        runAsNonRoot: true
                        seccompProfile: {type: RuntimeDefault}
                        capabilities: {drop: [ALL]}
                      resources:
                        requests: {cpu: 50m, memory: 64Mi}
                        limits: {cpu: 200m, memory: 128Mi}

            """);
        Write(root, "devices/ip-camera.yaml", """
            apiVersion: edgeops.io/v1alpha1
            kind: DeviceConfig
            metadata:
              name: ip-camera
            spec:
              placement:
                clusterSelector:
                  matchLabels:
                    tier: far
              discovery:
                handler: onvif
                details:
                  discoveryTimeoutSeconds: 2
              capacity: 2

            """);
        return files + 2;
    }

    private string Cluster(int i)
    {
        var country = Countries[i % Countries.Length];
        var roll = _random.NextDouble();
        var tier = roll < 0.05 ? "near" : roll < 0.35 ? "far" : "micro";
        var ring = _random.NextDouble() < 0.05 ? "canary" : "stable";
        var site = $"{country.Code.ToLowerInvariant()}-site-{i / Countries.Length % 40:D2}";
        var lat = country.Lat + ((_random.NextDouble() - 0.5) * 3);
        var lon = country.Lon + ((_random.NextDouble() - 0.5) * 3);
        var devices = tier switch
        {
            "micro" => "  devices:\n    - class: usb-camera\n      count: 2\n",
            "far" => "  devices:\n    - class: ip-camera\n      count: 4\n",
            _ => string.Empty,
        };
        return string.Create(CultureInfo.InvariantCulture, $"""
            apiVersion: edgeops.io/v1alpha1
            kind: Cluster
            metadata:
              name: c{i:D5}
              labels:
                tier: {tier}
                country: {country.Code}
                region: {country.Region}
                site: {site}
                ring: {ring}
            spec:
              location:
                lat: {lat:F4}
                lon: {lon:F4}
              capacity:
                cpu: "{(tier == "near" ? 16 : 4)}"
                memory: {(tier == "near" ? "64Gi" : "8Gi")}
              cost:
                cpuHour: 0.012
                memoryGiBHour: 0.002
                monthlyBudget: {(tier == "near" ? 400 : 40)}
              network:
                metered: {(tier == "micro" ? "true" : "false")}
                bandwidthKbps: {(tier == "micro" ? 2048 : 20000)}
            {devices}  maintenanceWindow:
                schedule: "0 {_random.Next(0, 5)} * * *"
                duration: 2h
                timeZone: {country.Zone}

            """);
    }

    private (string Workload, string Manifests) Workload(int w)
    {
        var name = $"w{w:D3}";
        var country = Countries[w % Countries.Length];
        var placement = (w % 6) switch
        {
            0 => "  placement:\n    clusterSelector:\n      matchLabels:\n        tier: micro\n    requires:\n      devices:\n        - class: usb-camera\n",
            1 => "  placement:\n    clusterSelector:\n      matchExpressions:\n        - key: tier\n          operator: In\n          values: [far, near]\n",
            2 => string.Create(CultureInfo.InvariantCulture,
                $"  placement:\n    clusterSelector:\n      matchLabels:\n        region: {country.Region}\n    location:\n      within:\n        lat: {country.Lat}\n        lon: {country.Lon}\n        radiusKm: 150\n"),
            3 => string.Create(CultureInfo.InvariantCulture,
                $"  placement:\n    location:\n      geofence:\n        type: Polygon\n        coordinates:\n          - [[{country.Lon - 1}, {country.Lat - 1}], [{country.Lon + 1}, {country.Lat - 1}], [{country.Lon + 1}, {country.Lat + 1}], [{country.Lon - 1}, {country.Lat + 1}], [{country.Lon - 1}, {country.Lat - 1}]]\n"),
            4 => "  placement:\n    clusterSelector:\n      matchExpressions:\n        - key: ring\n          operator: NotIn\n          values: [canary]\n",
            _ => string.Empty,
        };
        var overlay = w % 3 == 0
            ? $"""
                overlays:
                  - name: micro-sized
                    clusterSelector:
                      matchLabels:
                        tier: micro
                    patches:
                      - target:
                          kind: Deployment
                          name: {name}
                        merge:
                          spec:
                            replicas: 1
                      - target:
                          kind: ConfigMap
                        json:
                          - op: add
                            path: /data/profile
                            value: low-power

              """
            : string.Empty;
        var workload = $"""
            apiVersion: edgeops.io/v1alpha1
            kind: Workload
            metadata:
              name: {name}
            spec:
              namespace: ns-{name}
              manifests: [manifests.yaml]
              values:
                replicas: {1 + (w % 3)}
                image: registry.example.com/team-{w % 7}/{name}:1.{w}.0@sha256:{Digest(name)}
            {placement}{overlay}
            """;
        var manifests = $$"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{name}}-config
            data:
              cluster: ${cluster.name}
              site: ${cluster.labels.site}
              region: ${cluster.labels.region}
              level: info
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {{name}}
            spec:
              replicas: ${values.replicas}
              selector:
                matchLabels:
                  app: {{name}}
              template:
                metadata:
                  labels:
                    app: {{name}}
                spec:
                  securityContext:
                    runAsNonRoot: true
                    seccompProfile: {type: RuntimeDefault}
                  containers:
                    - name: main
                      image: ${values.image}
                      securityContext:
                        allowPrivilegeEscalation: false
                        capabilities: {drop: [ALL]}
                      ports:
                        - containerPort: 8080
                      resources:
                        requests: {cpu: 50m, memory: 64Mi}
                        limits: {cpu: 200m, memory: 128Mi}
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: {{name}}
            spec:
              selector:
                app: {{name}}
              ports:
                - port: 80
                  targetPort: 8080

            """;
        return (workload, manifests);
    }

    private static string Digest(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static void Write(string root, string path, string content)
    {
        var full = Path.Combine(root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content, new UTF8Encoding(false));
    }
}
