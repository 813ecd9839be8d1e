using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>
/// The agent as an operator installs it: deploy/reconciler.yaml applied to the API server, a token for
/// its ServiceAccount minted with the TokenRequest API, and the real <c>edgeops reconcile</c> running
/// with a kubeconfig that holds only that token — nothing here reconciles as admin. Also the hand-over
/// of the cluster lease between agents of different installs.
/// </summary>
[Collection("kube")]
public sealed class InstallAsShippedTests(KubeServerFixture fixture) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgeops-install-").FullName;

    [Fact]
    public async Task ShippedManifests_LetTheAgentApplyTheExampleFleet_WithOnlyItsServiceAccountToken()
    {
        using var admin = new KubeApi(fixture.Server.Configuration);
        await ApplyDeployAsync(admin);
        var token = await MintTokenAsync(admin);
        // The example fleet demands SSH-signed commits: sign with a key of our own and pin it, as an operator may.
        var key = SshSigning.NewKey(_work, "release");
        var signers = Path.Combine(_work, "allowed_signers");
        File.WriteAllText(signers, $"test@edgeops.invalid {SshSigning.PublicKey(key)}\n");
        using var fleet = ExampleFleetRepo(key);
        var kubeconfig = Kubeconfig(token);

        // Stand in for the kubelet: mark the example's pods ready while the agent waits for health.
        using var stop = new CancellationTokenSource();
        var kubelet = MarkPodsReadyAsync(admin, stop.Token);
        var run = await RunAsync(["reconcile", "--once", "--repo", fleet.Root, "--cluster", "es-lleida-hub", "--kubeconfig", kubeconfig,
            "--state-dir", Path.Combine(_work, "state"), "--health-timeout", "60s", "--allowed-signers", signers]);
        await stop.CancelAsync();
        await kubelet;

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.StartsWith("applied", run.Output, StringComparison.Ordinal);
        var configMaps = (await admin.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        var status = await admin.GetAsync(configMaps, "edgeops-system", "edgeops-status", CancellationToken.None);
        Assert.Equal("Applied", status!["data"]!["outcome"]!.ToString());
        var zones = await admin.ResolveAsync("orchard.pomona.io/v1", "HarvestZone", CancellationToken.None);
        Assert.NotNull(zones);
    }

    [Fact]
    public async Task LeaseHandover_AfterSigterm_IsImmediate_AndAfterSigkill_WithinTheLeaseDuration()
    {
        using var repo = new TempFleet();
        var ns = "lease-" + Guid.NewGuid().ToString("N")[..8];
        repo.Cluster("edge-1");
        repo.Workload("app", manifest: $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, namespace: {ns}}}\n");
        repo.Commit("first");
        var agentNs = "edgeops-" + ns;
        string[] Args(string state, params string[] more) =>
            ["reconcile", "--repo", repo.Root, "--cluster", "edge-1", "--kubeconfig", Kubeconfig(fixture.Server.Token), "--state-dir", Path.Combine(_work, state), "--namespace", agentNs, .. more];

        // A daemon, stopped cleanly: a replacement from another install takes over on its first pass.
        using (var daemon = Start(Args("a", "--interval", "1s", "--lease-duration", "1h")))
        {
            await WaitForAsync(() => File.Exists(Path.Combine(_work, "a", "status.json")));
            Assert.Equal(0, Signal(daemon.Id, 15));
            await daemon.WaitForExitAsync();
            Assert.Equal(0, daemon.ExitCode);
        }

        var replaced = await RunAsync([.. Args("b", "--once")]);
        Assert.True(replaced.ExitCode == 0, replaced.Output + replaced.Error);

        // A daemon killed outright keeps the lease until it runs out.
        using (var daemon = Start(Args("c", "--interval", "1s", "--lease-duration", "8s")))
        {
            await WaitForAsync(() => File.Exists(Path.Combine(_work, "c", "status.json")));
            daemon.Kill();
            await daemon.WaitForExitAsync();
        }

        var refused = await RunAsync([.. Args("d", "--once")]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("another agent holds this cluster's lease", refused.Output, StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(9));
        var takenOver = await RunAsync([.. Args("d", "--once")]);
        Assert.True(takenOver.ExitCode == 0, takenOver.Output + takenOver.Error);
    }

    [Theory]
    [InlineData("deploy/reconciler.yaml")]
    [InlineData("deploy/host-upgrades/reconciler.yaml")]
    [InlineData("install --collector https://collector.example:8443 --allowed-signers SIGNERS --branch release/2026-11 --interval 90s")]
    [InlineData("install --host-upgrades --collector https://collector.example:8443 --namespace robot-agent")]
    public async Task ShippedManifests_AreAcceptedByTheApiServer_FieldByField(string source)
    {
        // Server-side apply, dry run: the API server checks every field against its schemas and changes nothing.
        using var admin = new KubeApi(fixture.Server.Configuration);
        string file, text;
        if (source.StartsWith("install ", StringComparison.Ordinal))
        {
            File.WriteAllText(Path.Combine(_work, "allowed_signers"), $"ops@example.com {SshSigning.PublicKey(SshSigning.NewKey(_work, "ops"))}\n");
            var args = source.Replace("SIGNERS", Path.Combine(_work, "allowed_signers"), StringComparison.Ordinal).Split(' ');
            var printed = await RunAsync([.. args, "--cluster", "robot-es-0001", "--repo", "https://git.example.com/fleet.git", "--image", "registry.example/edgeops@sha256:" + new string('c', 64), "--export"]);
            Assert.True(printed.ExitCode == 0, printed.Error);
            (file, text) = ("install --export", printed.Output);
        }
        else
        {
            (file, text) = (source, await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, source)));
        }

        var bag = new DiagnosticBag();
        var documents = YamlReader.ReadDocuments(file, text, bag);
        Assert.Empty(bag.ToSortedList());
        var namespaces = (await admin.ResolveAsync("v1", "Namespace", CancellationToken.None))!;
        var refused = new List<string>();
        foreach (var document in documents.OfType<MappingNode>())
        {
            var id = ObjectIdentity.From(document);
            if (id.Namespace is { } ns && await admin.GetAsync(namespaces, null, ns, CancellationToken.None) is null)
            {
                await admin.ApplyAsync(namespaces, null, ns, new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = ns } }.ToJsonString(), "edgeops-test", force: true, CancellationToken.None);
            }

            var resource = (await admin.ResolveAsync(id.ApiVersion, id.Kind, CancellationToken.None))!;
            var path = resource.Path(resource.Namespaced ? id.Namespace : null, id.Name) + "?fieldManager=edgeops-test&dryRun=All";
            var answer = await admin.RawAsync(HttpMethod.Patch, path, JsonText.Write(document), "application/apply-patch+yaml", CancellationToken.None);
            if (!answer.IsSuccess)
            {
                refused.Add($"{id}: {answer.Message}");
            }
        }

        Assert.Empty(refused);
    }

    private static async Task ApplyDeployAsync(KubeApi admin)
    {
        var bag = new DiagnosticBag();
        var documents = YamlReader.ReadDocuments("deploy/reconciler.yaml", await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "reconciler.yaml")), bag);
        Assert.Empty(bag.ToSortedList());
        var objects = documents.OfType<MappingNode>().Select(d =>
        {
            var id = ObjectIdentity.From(d);
            return new RenderedObject(id, d, "install", "Install", KindOrder.IsKnownClusterScoped(id.Kind));
        }).ToList();
        var engine = new ApplyEngine(admin, new InventoryStore(admin, "edgeops-install-test"));
        var result = await engine.ApplyAsync(objects, new ApplyOptions { Fleet = "install", Prune = false }, CancellationToken.None);
        Assert.False(result.ChangeSet.HasFailures, result.ChangeSet.ToString());
    }

    private static async Task<string> MintTokenAsync(KubeApi admin)
    {
        var request = """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"audiences":["https://kubernetes.default.svc.cluster.local"],"expirationSeconds":3600}}""";
        var response = await admin.RawAsync(HttpMethod.Post, "/api/v1/namespaces/edgeops-system/serviceaccounts/edgeops-reconciler/token", request, "application/json", CancellationToken.None);
        Assert.True(response.IsSuccess, response.Message);
        return response.Body!["status"]!["token"]!.ToString();
    }

    private static TempFleet ExampleFleetRepo(string key)
    {
        var repo = new TempFleet(withFleet: false);
        foreach (var file in Directory.EnumerateFiles(RepoPaths.ExampleFleet, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(RepoPaths.ExampleFleet, file);
            repo.WriteBytes(relative, File.ReadAllBytes(file));
        }

        SshSigning.SignedCommit(repo, key, "example fleet");
        return repo;
    }

    private string Kubeconfig(string token)
    {
        var path = Path.Combine(_work, $"kubeconfig-{Guid.NewGuid():N}");
        File.WriteAllText(path, $"apiVersion: v1\nkind: Config\nclusters: [{{name: t, cluster: {{server: \"{fixture.Server.ServerUri}\", insecure-skip-tls-verify: true}}}}]\nusers: [{{name: u, user: {{token: \"{token}\"}}}}]\ncontexts: [{{name: t, context: {{cluster: t, user: u}}}}]\ncurrent-context: t\n");
        return path;
    }

    private static async Task MarkPodsReadyAsync(KubeApi admin, CancellationToken cancellationToken)
    {
        var pods = (await admin.ResolveAsync("v1", "Pod", CancellationToken.None))!;
        var now = DateTime.UtcNow.AddSeconds(-5).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        JsonObject Condition(string type) => new() { ["type"] = type, ["status"] = "True", ["lastTransitionTime"] = now };
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var pod in await admin.ListAsync(pods, null, null, CancellationToken.None))
            {
                if (pod["status"]?["phase"]?.ToString() == "Running")
                {
                    continue;
                }

                var status = new JsonObject { ["phase"] = "Running", ["conditions"] = new JsonArray(Condition("PodScheduled"), Condition("Initialized"), Condition("ContainersReady"), Condition("Ready")) };
                await admin.PatchStatusAsync(pods, pod["metadata"]!["namespace"]!.ToString(), pod["metadata"]!["name"]!.ToString(), new JsonObject { ["status"] = status }.ToJsonString(), CancellationToken.None);
            }

            try
            {
                await Task.Delay(300, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static Process Start(string[] args, bool drain = true)
    {
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "edgeops")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        psi.Environment["EDGEOPS_METRICS_PREFIX"] = $"http://127.0.0.1:{((System.Net.IPEndPoint)probe.LocalEndpoint).Port}/";
        probe.Stop();
        var process = Process.Start(psi)!;
        if (drain)
        {
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
        }

        return process;
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string[] args)
    {
        using var process = Start(args, drain: false);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(200);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int Signal(int pid, int signal);

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
