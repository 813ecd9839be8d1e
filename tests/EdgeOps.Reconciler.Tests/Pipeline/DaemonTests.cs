using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>The daemon: passes on an interval, serves /healthz, /readyz and /metrics, and stops cleanly on SIGTERM.</summary>
[Collection("kube")]
public sealed class DaemonTests(KubeServerFixture fixture)
{
    [Fact]
    public async Task Daemon_ReconcilesServesMetricsAndStopsOnSigterm()
    {
        using var repo = new TempFleet();
        var ns = "daemon-" + Guid.NewGuid().ToString("N")[..8];
        repo.Cluster("edge-1");
        repo.Workload("app", manifest: $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, namespace: {ns}}}\n");
        var first = repo.Commit("first");
        var state = Path.Combine(Path.GetTempPath(), "edgeops-daemon-" + Guid.NewGuid().ToString("N")[..10]);
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var process = await StartDaemonAsync(repo, ns, state, port);
        var log = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            var metrics = await PollAsync(http, $"http://127.0.0.1:{port}/metrics", text => text.Contains($"revision=\"{first}\"", StringComparison.Ordinal));
            Assert.Contains("edgeops_reconcile_passes_total{outcome=\"applied\"} 1", metrics, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"))).StatusCode);

            // Nothing watches the working directory (no configuration file is read from it).
            Assert.Equal(0, InotifyWatches(process.Id));

            repo.Workload("app", manifest: $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: b, namespace: {ns}}}\n");
            var second = repo.Commit("second");
            await PollAsync(http, $"http://127.0.0.1:{port}/metrics", text => text.Contains($"revision=\"{second}\"", StringComparison.Ordinal));
        }
        finally
        {
            Assert.Equal(0, Kill(process.Id, 15)); // SIGTERM
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
            File.Delete(state + "-kubeconfig");
            Directory.Delete(state, recursive: true);
        }

        Assert.True(process.ExitCode == 0, await errors);
        Assert.Contains("pass Applied", await log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Daemon_WhoseMetricsAddressAnotherProcessHolds_ReconcilesOn_AndSaysSoInOneLine()
    {
        using var repo = new TempFleet();
        var ns = "daemon-" + Guid.NewGuid().ToString("N")[..8];
        repo.Cluster("edge-1");
        repo.Workload("app", manifest: $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n");
        var first = repo.Commit("first");
        var state = Path.Combine(Path.GetTempPath(), "edgeops-daemon-" + Guid.NewGuid().ToString("N")[..10]);
        // Another exporter already listens where the agent would serve its metrics.
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        using var process = await StartDaemonAsync(repo, ns, state, port);
        var log = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            var status = Path.Combine(state, "status.json");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!(File.Exists(status) && (await File.ReadAllTextAsync(status)).Contains(first, StringComparison.Ordinal)))
            {
                if (process.HasExited)
                {
                    Assert.Fail("the agent stopped: " + await errors + await log);
                }

                Assert.True(DateTime.UtcNow < deadline, "the agent applied nothing within 60 s");
                await Task.Delay(200);
            }

            Assert.False(process.HasExited);
        }
        finally
        {
            _ = Kill(process.Id, 15); // SIGTERM; the agent may have stopped already, which the test reports
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
            File.Delete(state + "-kubeconfig");
            Directory.Delete(state, recursive: true);
        }

        var output = await log + await errors;
        Assert.True(process.ExitCode == 0, output);
        var warning = Assert.Single(output.Split('\n'), line => line.Contains("health and metrics endpoint", StringComparison.Ordinal));
        Assert.Contains($"cannot listen on http://127.0.0.1:{port}/", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// The agent as shipped, a daemon passing every second against the test API server (its kubeconfig beside the state
    /// folder), serving its metrics on <paramref name="port"/>. Started in a directory with a tree below it, as an agent
    /// started by hand in /etc or / would be.
    /// </summary>
    [Fact]
    public async Task Agent_WhoseGitServerAcceptsAndNeverAnswers_GivesUpAtItsGitTimeout_InsteadOfHangingForEver()
    {
        // A server that takes the connection and says nothing, as a peer that vanished behind a NAT looks.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<Socket>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                held.Add(await silent.AcceptSocketAsync(stop.Token));
            }
        });
        var url = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/fleet.git";
        var state = Path.Combine(Path.GetTempPath(), "edgeops-silent-" + Guid.NewGuid().ToString("N")[..10]);
        var kubeconfig = state + "-kubeconfig";
        await WriteKubeconfigAsync(kubeconfig);
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "edgeops")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "reconcile", "--once", "--repo", url, "--cluster", "edge-1", "--kubeconfig", kubeconfig, "--state-dir", state, "--namespace", "edgeops-silent-" + Guid.NewGuid().ToString("N")[..8], "--git-timeout", "2s" })
        {
            psi.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(patience.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await stop.CancelAsync();
            silent.Stop();
            held.ForEach(s => s.Dispose());
            File.Delete(kubeconfig);
            Directory.Delete(state, recursive: true);
        }

        Assert.True(process.ExitCode == 75, await errors); // offline: the cached revision (none yet) is what is enforced
        Assert.Contains($"offline: cannot reach {url}", await output, StringComparison.Ordinal);
        Assert.Contains("timed out", await output, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        await accepting.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task<Process> StartDaemonAsync(TempFleet repo, string ns, string state, int port)
    {
        var kubeconfig = state + "-kubeconfig";
        await WriteKubeconfigAsync(kubeconfig);
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "edgeops")) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repo.Root };
        foreach (var a in new[] { "reconcile", "--repo", repo.Root, "--cluster", "edge-1", "--kubeconfig", kubeconfig, "--state-dir", state, "--namespace", "edgeops-" + ns, "--interval", "1s" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["EDGEOPS_METRICS_PREFIX"] = $"http://127.0.0.1:{port}/";
        return Process.Start(psi)!;
    }

    /// <summary>A kubeconfig for the test API server, as the agent's process reads it.</summary>
    private Task WriteKubeconfigAsync(string path) =>
        File.WriteAllTextAsync(path, $"apiVersion: v1\nkind: Config\nclusters: [{{name: t, cluster: {{server: \"{fixture.Server.ServerUri}\", insecure-skip-tls-verify: true}}}}]\nusers: [{{name: a, user: {{token: \"{fixture.Server.Token}\"}}}}]\ncontexts: [{{name: t, context: {{cluster: t, user: a}}}}]\ncurrent-context: t\n");

    /// <summary>The inotify watches a process holds, from its descriptors' fdinfo.</summary>
    private static int InotifyWatches(int pid)
    {
        var watches = 0;
        foreach (var info in Directory.EnumerateFiles($"/proc/{pid}/fdinfo"))
        {
            try
            {
                watches += File.ReadLines(info).Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                // A descriptor closed meanwhile.
            }
        }

        return watches;
    }

    private static async Task<string> PollAsync(HttpClient http, string url, Func<string, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var last = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await http.GetStringAsync(new Uri(url));
                if (until(last))
                {
                    return last;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{url} never showed what was expected; last: {last}");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
