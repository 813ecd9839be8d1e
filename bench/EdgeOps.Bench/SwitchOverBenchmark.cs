using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Tests.SwitchOver;

namespace EdgeOps.Bench;

/// <summary>
/// The switch-over figures on the test API server, pod status written by a simulated kubelet that polls every
/// 50 ms: time from "green pre-initialised" to "Services switched" (two Services), against the baseline of one
/// server-side apply of a Service in the same run; and the exclusive-device handoff gap (blue released and
/// scaled to zero, its pods gone, green restarted with the camera and ready).
/// </summary>
internal static class SwitchOverBenchmark
{
    public static async Task<int> RunAsync(int rounds)
    {
        await using var kube = await Reconciler.Tests.Infrastructure.KubeServer.StartAsync();
        using var api = new KubeApi(kube.Configuration);
        foreach (var camera in new[] { false, true })
        {
            var repo = new BenchRepo();
            var ns = "bench-sw-" + (camera ? "camera" : "plain");
            var state = Directory.CreateTempSubdirectory("edgeops-bench-sw-").FullName;
            var agent = new Reconciler.Pipeline.Reconciler(new ReconcilerOptions
            {
                Source = new GitSourceOptions { Url = repo.Root, Branch = "main", CacheDirectory = Path.Combine(state, "repo.git") },
                Cluster = "robot-1",
                StateDirectory = state,
                Namespace = "edgeops-" + ns,
                Identity = "robot-1/bench",
                HealthTimeout = TimeSpan.FromSeconds(60),
            }, api);
            using var stop = new CancellationTokenSource();
            var kubelet = KubeletAsync(api, ns, stop.Token);
            var switches = new List<double>();
            var gaps = new List<double>();
            for (var round = 0; round <= rounds; round++)
            {
                Write(repo, ns, $"registry.example/vision:{round}", camera);
                repo.Commit(round.ToString(CultureInfo.InvariantCulture));
                var result = await agent.RunOnceAsync(CancellationToken.None);
                if (result.Outcome != PassOutcome.Applied)
                {
                    throw new InvalidOperationException($"round {round}: {result.Outcome}: {result.Message}");
                }

                if (round > 0)
                {
                    var status = result.Report.SwitchOvers.Single();
                    switches.Add(status.LastSwitchSeconds!.Value * 1000);
                    if (status.LastHandoffGapSeconds is { } gap)
                    {
                        gaps.Add(gap * 1000);
                    }
                }
            }

            await stop.CancelAsync();
            await kubelet;
            var baseline = await ServiceApplyBaselineAsync(api, ns, rounds);
            Console.WriteLine(camera
                ? $"switch-over with an exclusive camera, median of {rounds}: handoff gap {Median(gaps):0} ms; pre-initialised to Services switched {Median(switches):0} ms"
                : $"switch-over, median of {rounds}: pre-initialised to Services switched (2 Services) {Median(switches):0} ms; baseline, one Service apply: {baseline:0.0} ms");
            Directory.Delete(state, recursive: true);
            Directory.Delete(repo.Root, recursive: true);
        }

        return 0;
    }

    private static void Write(BenchRepo repo, string ns, string image, bool camera)
    {
        repo.Write("fleet.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Fleet\nmetadata:\n  name: bench\n");
        repo.Write("clusters/robot-1.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: robot-1\n  labels: {tier: micro}\n");
        repo.Write("workloads/vision/workload.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Workload\nmetadata:\n  name: vision\nspec:\n  manifests: [manifest.yaml]\n  " + VisionWorkload.Strategy("0s").Replace("\n", "\n  ", StringComparison.Ordinal) + "\n");
        repo.Write("workloads/vision/manifest.yaml", VisionWorkload.Manifests(ns, image, camera ? "camera" : null, metricsService: true));
    }

    private static async Task<double> ServiceApplyBaselineAsync(KubeApi api, string ns, int rounds)
    {
        var services = (await api.ResolveAsync("v1", "Service", CancellationToken.None))!;
        var samples = new List<double>();
        for (var i = 0; i < rounds * 4; i++)
        {
            var body = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Service",
                ["metadata"] = new JsonObject { ["name"] = "baseline", ["namespace"] = ns },
                ["spec"] = new JsonObject { ["selector"] = new JsonObject { ["slot"] = i % 2 == 0 ? "blue" : "green" }, ["ports"] = new JsonArray(new JsonObject { ["port"] = 80 }) },
            };
            var watch = Stopwatch.StartNew();
            await api.ApplyAsync(services, ns, "baseline", body.ToJsonString(), "bench", force: true, CancellationToken.None);
            samples.Add(watch.Elapsed.TotalMilliseconds);
        }

        return Median(samples);
    }

    private static async Task KubeletAsync(KubeApi api, string ns, CancellationToken stop)
    {
        var pods = (await api.ResolveAsync("v1", "Pod", CancellationToken.None))!;
        while (!stop.IsCancellationRequested)
        {
            foreach (var pod in await api.ListAsync(pods, ns, "edgeops.io/slot", CancellationToken.None))
            {
                if (pod["status"]?["phase"]?.GetValue<string>() == "Running")
                {
                    continue;
                }

                var now = DateTime.UtcNow.AddSeconds(-5).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                JsonObject Condition(string type) => new() { ["type"] = type, ["status"] = "True", ["lastTransitionTime"] = now };
                var status = new JsonObject { ["phase"] = "Running", ["conditions"] = new JsonArray(Condition("PodScheduled"), Condition("Initialized"), Condition("ContainersReady"), Condition("Ready")) };
                await api.PatchStatusAsync(pods, ns, pod["metadata"]!["name"]!.ToString(), new JsonObject { ["status"] = status }.ToJsonString(), CancellationToken.None);
            }

            try
            {
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }
}
