using System.Diagnostics;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;

namespace EdgeOps.Reconciler.Tests.Location;

/// <summary>
/// The daemon following a real gpsd: the robot drives out of the fence, the decision flips after the dwell, and
/// the daemon renders again at once — the personal-data workload is pruned long before the next interval.
/// </summary>
[Collection("kube")]
public sealed class GpsdDaemonLiveLocationTests(KubeServerFixture fixture)
{
    [Theory]
    [MemberData(nameof(ReconcilerProcess.Agents), MemberType = typeof(ReconcilerProcess))]
    public async Task GpsdDaemon_PositionLeavingTheFence_ReRendersWithoutWaitingForTheInterval(Agent agent)
    {
        using var repo = new TempFleet();
        var ns = "gpsd-" + Guid.NewGuid().ToString("N")[..8];
        repo.Cluster("robot-1", "tier: micro", "location: {lat: 40.0, lon: -3.0}");
        repo.Workload("records", """
            placement:
              location:
                geofence:
                  type: Polygon
                  coordinates: [[[-3.01, 39.99], [-2.99, 39.99], [-2.99, 40.01], [-3.01, 40.01], [-3.01, 39.99]]]
                margin: 50
                dwell: 10s
            """, $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: records, namespace: {ns}}}\n");
        repo.Commit("records inside the fence");
        var t0 = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        var track = Enumerable.Range(0, 150).Select(s => new TrackPoint(t0.AddSeconds(s), 40.0, -3.0))
            .Concat(Enumerable.Range(150, 250).Select(s => new TrackPoint(t0.AddSeconds(s), 40.01 + (400 / 111_195.0), -3.0)));
        using var gps = new GpsFake(track);
        var state = Path.Combine(Path.GetTempPath(), "edgeops-gpsd-daemon-" + Guid.NewGuid().ToString("N")[..10]);
        var kubeconfig = state + "-kubeconfig";
        await File.WriteAllTextAsync(kubeconfig, $"apiVersion: v1\nkind: Config\nclusters: [{{name: t, cluster: {{server: \"{fixture.Server.ServerUri}\", insecure-skip-tls-verify: true}}}}]\nusers: [{{name: a, user: {{token: \"{fixture.Server.Token}\"}}}}]\ncontexts: [{{name: t, context: {{cluster: t, user: a}}}}]\ncurrent-context: t\n");
        // The framework-dependent build and the NativeAOT agent (gpsd's JSON, the daemon's wake-up on a new position).
        var psi = ReconcilerProcess.StartInfo(agent);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        foreach (var a in new[] { "reconcile", "--repo", repo.Root, "--cluster", "robot-1", "--kubeconfig", kubeconfig, "--state-dir", state, "--namespace", "edgeops-" + ns, "--interval", "10m", "--location-source", "gpsd", "--gpsd", gps.Address })
        {
            psi.ArgumentList.Add(a);
        }

        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            psi.Environment["EDGEOPS_METRICS_PREFIX"] = $"http://127.0.0.1:{((System.Net.IPEndPoint)probe.LocalEndpoint).Port}/";
        }

        using var process = Process.Start(psi)!;
        var log = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var api = new KubeApi(fixture.Server.Configuration);
        var configMaps = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        try
        {
            if (!await WaitAsync(async () => await api.GetAsync(configMaps, ns, "records", CancellationToken.None) is not null, TimeSpan.FromSeconds(30)))
            {
                process.Kill();
                Assert.Fail($"the workload was never applied while the robot stood inside the fence: {await log}{await errors}");
            }

            var placedAt = Stopwatch.StartNew();
            Assert.True(await WaitAsync(async () => await api.GetAsync(configMaps, ns, "records", CancellationToken.None) is null, TimeSpan.FromSeconds(60)),
                "the workload stayed after the robot left the fence");
            Assert.True(placedAt.Elapsed < TimeSpan.FromMinutes(2), "re-rendered only at the interval");
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
            File.Delete(kubeconfig);
            Directory.Delete(state, recursive: true);
        }

        Assert.Contains("pass Applied", await log + await errors, StringComparison.Ordinal);
    }

    private static async Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(200);
        }

        return false;
    }
}
