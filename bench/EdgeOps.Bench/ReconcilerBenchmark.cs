using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Tests.Infrastructure;

namespace EdgeOps.Bench;

/// <summary>
/// The reconciler's figures, against the test API server and a fleet repo of 1,000 commits served
/// by git http-backend on loopback: idle RSS of the daemon with a 200-object desired state, a no-op
/// pass (writes counted at a proxy, wall time), bytes of an idle poll and of a one-file change, and
/// the time from a push to applied with the daemon polling every 2 s.
/// </summary>
internal static class ReconcilerBenchmark
{
    public static async Task<int> RunAsync(int objects, int commits)
    {
        await using var server = await KubeServer.StartAsync();
        var work = Path.Combine(Path.GetTempPath(), "edgeops-reconciler-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var repo = Path.Combine(work, "fleet");
        Directory.CreateDirectory(repo);
        var ns = "bench-" + Guid.NewGuid().ToString("N")[..6];
        CreateRepository(repo, ns, objects, commits);
        using var http = new GitHttpBackend(work);
        var url = new Uri(http.Uri, "fleet").ToString();
        await using var proxy = new FaultProxy(server.ServerUri);
        using var api = new KubeApi(new KubeConnection { Server = new Uri(proxy.Uri.ToString()), Token = server.Token, SkipTlsVerify = true });
        var state = Path.Combine(work, "state");
        var steps = new StepTimer();
        var reconciler = new Reconciler.Pipeline.Reconciler(new ReconcilerOptions
        {
            Source = new GitSourceOptions { Url = url, CacheDirectory = Path.Combine(state, "repo.git") },
            Cluster = "edge-1",
            StateDirectory = state,
            Namespace = "edgeops-" + ns,
            Checkpoint = steps.Mark,
        }, api);

        var stopwatch = Stopwatch.StartNew();
        var first = await reconciler.RunOnceAsync(CancellationToken.None);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first pass (clone of {commits} commits + apply of {objects} objects): {stopwatch.Elapsed.TotalSeconds:0.00} s, {first.Outcome}, {http.Bytes.Sent:N0} bytes fetched"));
        await reconciler.RunOnceAsync(CancellationToken.None); // publishes the Unchanged status once

        var noop = new List<double>();
        var writes = new List<int>();
        var idleBytes = new List<long>();
        steps.Clear();
        for (var i = 0; i < 5; i++)
        {
            http.ResetCounters();
            var before = proxy.Writes;
            stopwatch.Restart();
            var pass = await reconciler.RunOnceAsync(CancellationToken.None);
            steps.Mark("pass:end");
            noop.Add(stopwatch.Elapsed.TotalSeconds);
            writes.Add(proxy.Writes - before);
            idleBytes.Add(http.Bytes.Sent + http.Bytes.Received);
            if (pass.Outcome != PassOutcome.Unchanged)
            {
                Console.Error.WriteLine($"expected an unchanged pass: {pass.Message}");
                return 1;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"no-op pass over {objects} objects: median {Median(noop):0.000} s, write requests {Median(writes)} (max {writes.Max()}), idle poll {Median(idleBytes):N0} bytes over HTTP (sent + received)"));
        Console.WriteLine("  by step (median ms): " + steps.Summary());

        var changeBytes = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            Touch(repo, ns, i);
            http.ResetCounters();
            var pass = await reconciler.RunOnceAsync(CancellationToken.None);
            changeBytes.Add(http.Bytes.Sent + http.Bytes.Received);
            if (pass.Outcome != PassOutcome.Applied)
            {
                Console.Error.WriteLine($"expected the change to apply: {pass.Message}");
                return 1;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"one-file change in a {commits}-commit repository: median {Median(changeBytes):N0} bytes over HTTP"));

        // The daemon as shipped: the framework-dependent build, then the NativeAOT one (scripts/publish.sh).
        var aot = Path.Combine(RepoRoot(), "artifacts", "bin", "linux-x64", "edgeops");
        await DaemonFiguresAsync(server, url, repo, ns, work, Path.Combine(AppContext.BaseDirectory, "edgeops"), "framework-dependent");
        if (File.Exists(aot))
        {
            await DaemonFiguresAsync(server, url, repo, ns, work, aot, "NativeAOT");
        }
        else
        {
            Console.WriteLine($"(no NativeAOT build at {aot}: run scripts/publish.sh linux-x64 for its figures)");
        }

        // Another build to compare with in the same run (an older commit's scripts/publish.sh output, say).
        if (Environment.GetEnvironmentVariable("EDGEOPS_BENCH_BASELINE") is { Length: > 0 } baseline && File.Exists(baseline))
        {
            await DaemonFiguresAsync(server, url, repo, ns, work, baseline, $"baseline {baseline}");
        }

        Directory.Delete(work, recursive: true);
        return 0;
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EdgeOps.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root");
    }

    private static async Task DaemonFiguresAsync(KubeServer server, string url, string repo, string ns, string work, string binary, string build)
    {
        Console.WriteLine($"-- daemon, {build} build ({binary})");
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var kubeconfig = Path.Combine(work, "kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, string.Join('\n', "apiVersion: v1", "kind: Config",
            $"clusters: [{{name: t, cluster: {{server: \"{server.ServerUri}\", insecure-skip-tls-verify: true}}}}]",
            $"users: [{{name: a, user: {{token: \"{server.Token}\"}}}}]",
            "contexts: [{name: t, context: {cluster: t, user: a}}]", "current-context: t", string.Empty));
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        // The state folder the in-process passes used: the same install ID holds the cluster's lease, and the
        // daemon starts as a restarted agent does, with the repository cached and the desired state applied.
        var state = Path.Combine(work, "state");
        foreach (var a in new[] { "reconcile", "--repo", url, "--cluster", "edge-1", "--kubeconfig", kubeconfig, "--state-dir", state, "--namespace", "edgeops-" + ns, "--interval", "2s" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["EDGEOPS_METRICS_PREFIX"] = $"http://127.0.0.1:{port}/";
        var started = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var api = new KubeApi(server.Configuration);
        var configMaps = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        try
        {
            using var client = new HttpClient();
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    if ((await client.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"))).IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(200);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"start-up to the first pass done (a restart: repository cached, state applied; ready): {started.Elapsed.TotalSeconds:0.00} s"));
            await Task.Delay(TimeSpan.FromSeconds(6)); // a few idle passes

            // Each idle pass's duration, from the pass-duration histogram: a new pass moves its count by one and its sum by the duration.
            var passes = new List<double>();
            var (count, sum) = await PassTotalsAsync(client, port);
            var until = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < until && passes.Count < 7)
            {
                await Task.Delay(100);
                var (c, s) = await PassTotalsAsync(client, port);
                if (c == count + 1)
                {
                    passes.Add(s - sum);
                }

                (count, sum) = (c, s);
            }

            if (passes.Count > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"no-op pass over the 200 objects in the daemon: median {Median(passes) * 1000:0} ms (min {passes.Min() * 1000:0}, max {passes.Max() * 1000:0}, {passes.Count} passes)"));
            }

            var rss = new List<long>();
            for (var i = 0; i < 10; i++)
            {
                rss.Add(ResidentKiB(process.Id));
                await Task.Delay(500);
            }

            if (Environment.GetEnvironmentVariable("EDGEOPS_BENCH_SMAPS") == "1")
            {
                var sizes = new Dictionary<string, long>();
                string current = "?";
                foreach (var line in File.ReadLines($"/proc/{process.Id}/smaps"))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length >= 5 && parts[0].Contains('-', StringComparison.Ordinal))
                    {
                        current = parts.Length >= 6 ? Path.GetFileName(parts[5]) : "[anon]";
                    }
                    else if (parts[0] == "Rss:")
                    {
                        sizes[current] = sizes.GetValueOrDefault(current) + long.Parse(parts[1], CultureInfo.InvariantCulture);
                    }
                }

                foreach (var (name, kib) in sizes.OrderByDescending(p => p.Value).Take(12))
                {
                    Console.WriteLine($"   {kib / 1024.0,7:0.0} MiB  {name}");
                }

                // The largest anonymous mappings one by one: what is resident of how much is mapped.
                var regions = new List<(string Range, long Size, long Rss)>();
                var (range, size, anonymous) = ("?", 0L, false);
                foreach (var line in File.ReadLines($"/proc/{process.Id}/smaps"))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length >= 5 && parts[0].Contains('-', StringComparison.Ordinal))
                    {
                        (range, anonymous) = (parts[0], parts.Length < 6);
                    }
                    else if (parts[0] == "Size:")
                    {
                        size = long.Parse(parts[1], CultureInfo.InvariantCulture);
                    }
                    else if (parts[0] == "Rss:" && anonymous)
                    {
                        regions.Add((range, size, long.Parse(parts[1], CultureInfo.InvariantCulture)));
                    }
                }

                foreach (var (where, mapped, resident) in regions.OrderByDescending(r => r.Rss).Take(12))
                {
                    Console.WriteLine($"   anon {where}: {resident / 1024.0:0.0} MiB resident of {mapped / 1024.0:0.0} MiB");
                }
            }

            var metrics = await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
            var heap = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("dotnet_gc_heap_bytes ", StringComparison.Ordinal))?.Split(' ')[1] ?? "?";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"daemon idle RSS with the desired state applied: median {Median(rss) / 1024.0:0.0} MiB (min {rss.Min() / 1024.0:0.0}, max {rss.Max() / 1024.0:0.0}); managed heap {double.Parse(heap, CultureInfo.InvariantCulture) / 1048576:0.0} MiB"));

            var latencies = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var marker = $"push-{i}-{Guid.NewGuid():N}";
                var pushed = Stopwatch.StartNew();
                Touch(repo, ns, 100 + i, marker);
                while (pushed.Elapsed < TimeSpan.FromSeconds(60))
                {
                    var live = await api.GetAsync(configMaps, ns, "c1", CancellationToken.None);
                    if (live?["data"]?["marker"]?.ToString() == marker)
                    {
                        break;
                    }

                    await Task.Delay(50);
                }

                latencies.Add(pushed.Elapsed.TotalSeconds);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"push to applied with the daemon polling every 2 s (±10%): median {Median(latencies):0.00} s (min {latencies.Min():0.00}, max {latencies.Max():0.00})"));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<(long Count, double Sum)> PassTotalsAsync(HttpClient client, int port)
    {
        var text = await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        double Value(string name) => text.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(name.Length + 1)..], CultureInfo.InvariantCulture)).FirstOrDefault();
        return ((long)Value("edgeops_reconcile_duration_seconds_count"), Value("edgeops_reconcile_duration_seconds_sum"));
    }

    private static long ResidentKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>The fleet, then <paramref name="commits"/> - 1 more commits that each change a changelog, via git fast-import.</summary>
    private static void CreateRepository(string repo, string ns, int objects, int commits)
    {
        Git(repo, null, "init", "-q", "-b", "main");
        var manifest = new StringBuilder($"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n");
        for (var i = 1; i < objects; i++)
        {
            manifest.Append(i % 4 == 0
                ? $"---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: {ns}}}\nspec: {{selector: {{app: a{i}}}, ports: [{{port: 80, protocol: TCP}}]}}\n"
                : $"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: {ns}}}\ndata: {{key: value-{i}}}\n");
        }

        var files = new Dictionary<string, string>
        {
            ["fleet.yaml"] = "apiVersion: edgeops.io/v1alpha1\nkind: Fleet\nmetadata:\n  name: bench\n",
            ["clusters/edge-1.yaml"] = "apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: edge-1\n",
            ["workloads/app/workload.yaml"] = "apiVersion: edgeops.io/v1alpha1\nkind: Workload\nmetadata:\n  name: app\nspec:\n  manifests: [manifest.yaml]\n",
            ["workloads/app/manifest.yaml"] = manifest.ToString(),
        };
        var stream = new StringBuilder();
        for (var c = 1; c <= commits; c++)
        {
            stream.Append("commit refs/heads/main\ncommitter Bench <bench@edgeops.invalid> ").Append(1_700_000_000 + c).Append(" +0000\n");
            var message = $"commit {c}";
            stream.Append("data ").Append(Encoding.UTF8.GetByteCount(message)).Append('\n').Append(message).Append('\n');
            // Commits to one branch chain on their own in fast-import.
            var changes = c == 1 ? files : new Dictionary<string, string> { ["CHANGELOG"] = $"release {c}\n" };
            foreach (var (path, content) in changes)
            {
                stream.Append("M 100644 inline ").Append(path).Append("\ndata ").Append(Encoding.UTF8.GetByteCount(content)).Append('\n').Append(content).Append('\n');
            }
        }

        Git(repo, stream.ToString(), "fast-import", "--quiet");
        Git(repo, null, "reset", "-q", "--hard", "main");
    }

    private static void Touch(string repo, string ns, int round, string? marker = null)
    {
        var path = Path.Combine(repo, "workloads", "app", "manifest.yaml");
        var text = File.ReadAllText(path);
        var start = text.IndexOf($"metadata: {{name: c1, namespace: {ns}}}", StringComparison.Ordinal);
        var end = text.IndexOf("\n---", start, StringComparison.Ordinal);
        var replacement = $"metadata: {{name: c1, namespace: {ns}}}\ndata: {{key: value-1, round: \"{round}\", marker: \"{marker ?? round.ToString(CultureInfo.InvariantCulture)}\"}}";
        File.WriteAllText(path, text[..start] + replacement + text[end..]);
        Git(repo, null, "-c", "user.name=Bench", "-c", "user.email=bench@edgeops.invalid", "commit", "-q", "-am", $"change {round}");
    }

    private static void Git(string directory, string? input, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardInput = input is not null, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        var error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', args)}: {error}");
        }
    }

    private static T Median<T>(List<T> values) => values.Order().ElementAt(values.Count / 2);
}

/// <summary>Time between a pass's checkpoints, by step (from one "step:NAME" mark to the next), over several passes.</summary>
internal sealed class StepTimer
{
    private readonly Dictionary<string, List<double>> _times = new(StringComparer.Ordinal);
    private string? _step;
    private long _since;

    public void Mark(string checkpoint)
    {
        if (!checkpoint.StartsWith("step:", StringComparison.Ordinal) && checkpoint != "pass:end" && checkpoint != "pass:start")
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        if (_step is not null)
        {
            var times = _times.TryGetValue(_step, out var list) ? list : _times[_step] = [];
            times.Add(Stopwatch.GetElapsedTime(_since, now).TotalMilliseconds);
        }

        _step = checkpoint.StartsWith("step:", StringComparison.Ordinal) ? checkpoint[5..] : checkpoint == "pass:start" ? "start" : null;
        _since = now;
    }

    public void Clear()
    {
        _times.Clear();
        _step = null;
    }

    public string Summary() => string.Join(", ", _times.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value.Order().ElementAt(p.Value.Count / 2):0.0}")));
}
