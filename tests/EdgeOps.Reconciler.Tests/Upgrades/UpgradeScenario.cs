using System.Security.Cryptography;
using System.Text;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Reconciler.Upgrades;
using EdgeOps.Tests;
using EdgeOps.Trust.Tests.Sigstore;

namespace EdgeOps.Reconciler.Tests.Upgrades;

/// <summary>
/// A fleet repo whose UpgradePlans point at artifacts on a loopback server, signed by an in-memory Sigstore
/// instance, for a device simulated by <see cref="SimulatedDevice"/> (or a real RAUC service).
/// </summary>
internal sealed class UpgradeScenario : IDisposable
{
    public const string Release = "https://github.com/pomona/os/.github/workflows/release.yml@refs/heads/main";
    public const string Stranger = "https://github.com/mallory/os/.github/workflows/release.yml@refs/heads/main";

    public UpgradeScenario()
    {
        Repo.Write("fleet.yaml", TempFleet.FleetYaml + $"""
            spec:
              trust:
                sigstore:
                  trustedRoot: trust/sigstore-trusted-root.json
                  identities:
                    - issuer: {VirtualSigstore.DefaultIssuer}
                      subject: {Release}

            """);
        Repo.Write("trust/sigstore-trusted-root.json", Sigstore.TrustedRootJson());
        Repo.Cluster("edge-1", "tier: far\nring: canary");
    }

    public TempFleet Repo { get; } = new();

    public VirtualSigstore Sigstore { get; } = new();

    public ArtifactServer Server { get; } = new();

    public SimulatedDevice Device { get; } = new();

    public string Suffix { get; } = Guid.NewGuid().ToString("N")[..8];

    public string Ns => $"upgrade-{Suffix}";

    public string State { get; } = Path.Combine(Path.GetTempPath(), "edgeops-upgrade-" + Guid.NewGuid().ToString("N")[..10]);

    /// <summary>The exec health check's flag: the check passes while this file exists.</summary>
    public string HealthyFlag => Path.Combine(Device.Root, "healthy");

    public void Dispose()
    {
        Repo.Dispose();
        Sigstore.Dispose();
        Server.Dispose();
        Device.Dispose();
        if (Directory.Exists(State))
        {
            Directory.Delete(State, recursive: true);
        }
    }

    /// <summary>A workload of ConfigMaps in the scenario's namespace, optionally requiring an OS version.</summary>
    public void Workload(string name, string? requires = null)
    {
        var spec = requires is null ? string.Empty : $"requires: {{component: os, version: \"{requires}\"}}";
        Repo.Workload(name, spec, $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {Ns}}}\ndata: {{k: {name}}}\n");
    }

    /// <summary>Publishes an image on the server, signs it, and writes an UpgradePlan for it.</summary>
    public byte[] Plan(string name, string version, string? signer = Release, string timeout = "30s", string commitAfter = "0s", string backend = "command", byte[]? image = null, string? extra = null)
    {
        image ??= SimulatedDevice.Image(version);
        var url = Server.Add($"{name}-{version}.img", image);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(image));
        var bundle = string.Empty;
        if (signer is not null)
        {
            Repo.Write($"upgrades/{name}.sigstore.json", Sigstore.SignMessage(image, new SignOptions { Identity = signer }));
            bundle = $"\n    bundle: upgrades/{name}.sigstore.json";
        }

        Repo.Write($"upgrades/{name}.yaml", $"""
            apiVersion: edgeops.io/v1alpha1
            kind: UpgradePlan
            metadata:
              name: {name}
            spec:
              component: os
              version: "{version}"
              placement:
                clusterSelector:
                  matchLabels:
                    tier: far
              artifact:
                url: {url}
                digest: {digest}
                size: {image.Length}{bundle}
              slots:
                backend: {backend}
              healthChecks:
                - name: vision-ready
                  exec:
                    command: [test, -f, {HealthyFlag}]
                  timeout: {timeout}
              commitAfter: {commitAfter}{extra}

            """);
        return image;
    }

    public string Commit(string message) => Repo.Commit(message);

    public ReconcilerOptions Options(ISlotBackend? backend, Action<string>? checkpoint = null) => new()
    {
        Source = new GitSourceOptions { Url = Repo.Root, Branch = "main", CacheDirectory = Path.Combine(State, "repo.git") },
        Cluster = "edge-1",
        StateDirectory = State,
        Namespace = "edgeops-" + Suffix,
        Identity = "edge-1/test-install",
        HealthTimeout = TimeSpan.FromSeconds(20),
        Checkpoint = checkpoint,
        Upgrades = new UpgradeOptions
        {
            Backend = backend,
            PollInterval = TimeSpan.FromMilliseconds(200),
            Download = new DownloaderOptions { Backoff = TimeSpan.FromMilliseconds(20), IdleTimeout = TimeSpan.FromSeconds(5) },
        },
    };

    public EdgeOps.Reconciler.Pipeline.Reconciler Reconciler(KubeApi api, ISlotBackend? backend = null, Action<string>? checkpoint = null) =>
        new(Options(backend ?? new CommandSlotBackend(Device.Executable), checkpoint), api);

    public UpgradeRecord? Journal => new UpgradeJournal(State).Read();

    public async Task<bool> ExistsAsync(KubeApi api, string name)
    {
        var resource = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        return await api.GetAsync(resource, Ns, name, CancellationToken.None) is not null;
    }

    /// <summary>The upgrade Events the agent wrote (reason and message), oldest first.</summary>
    public async Task<List<(string Reason, string Message)>> UpgradeEventsAsync(KubeApi api)
    {
        var response = await api.RawAsync(HttpMethod.Get, $"/api/v1/namespaces/edgeops-{Suffix}/events", null, null, CancellationToken.None);
        return [.. (response.Body?["items"]?.AsArray() ?? [])
            .Select(e => (Reason: e!["reason"]!.GetValue<string>(), Message: e["message"]!.GetValue<string>()))
            .Where(e => e.Reason.StartsWith("Upgrade", StringComparison.Ordinal))];
    }

    public static string Text(byte[] image) => Encoding.ASCII.GetString(image, 0, 32);
}
