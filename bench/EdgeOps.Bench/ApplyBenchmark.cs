using System.Diagnostics;
using System.Globalization;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Tests.Infrastructure;

namespace EdgeOps.Bench;

/// <summary>
/// Apply speed against the real test API server: N objects into an empty namespace, then a no-op
/// pass over the same N (its write requests counted at a loopback proxy), and the peak request rate.
/// Each figure is the median of several rounds, each round in fresh namespaces.
/// </summary>
internal static class ApplyBenchmark
{
    public static async Task<int> RunAsync(int count, int rounds)
    {
        await using var server = await KubeServer.StartAsync();
        var first = new List<double>();
        var noop = new List<double>();
        var noopWrites = new List<int>();
        var peaks = new List<int>();
        for (var round = 0; round < rounds; round++)
        {
            await using var proxy = new FaultProxy(server.ServerUri);
            using var api = new KubeApi(new KubeConnection { Server = new Uri(proxy.Uri.ToString()), Token = server.Token, SkipTlsVerify = true });
            var suffix = Guid.NewGuid().ToString("N")[..8];
            var engine = new ApplyEngine(api, new InventoryStore(api, "edgeops-bench-" + suffix));
            var objects = Objects(count, suffix);
            var options = new ApplyOptions { Fleet = "bench", Revision = "r1" };

            var stopwatch = Stopwatch.StartNew();
            var created = await engine.ApplyAsync(objects, options, CancellationToken.None);
            first.Add(stopwatch.Elapsed.TotalSeconds);
            if (created.ChangeSet.HasFailures)
            {
                Console.Error.WriteLine(string.Join("\n", created.ChangeSet.Changes.Where(c => c.Action == ChangeAction.Failed).Take(3).Select(c => $"{c.Id}: {c.Reason}")));
                return 1;
            }

            peaks.Add(proxy.PeakRequestsPerSecond);
            var writes = proxy.Writes;
            stopwatch.Restart();
            var again = await engine.ApplyAsync(objects, options, CancellationToken.None);
            noop.Add(stopwatch.Elapsed.TotalSeconds);
            noopWrites.Add(proxy.Writes - writes);
            if (again.ChangeSet.Count(ChangeAction.Unchanged) != objects.Count)
            {
                Console.Error.WriteLine($"no-op pass changed something: {again.ChangeSet}");
                return 1;
            }
        }

        static T Median<T>(List<T> values) => values.Order().ElementAt(values.Count / 2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"apply {count} objects into an empty namespace: median {Median(first):0.00} s ({count / Median(first):0} objects/s), peak {Median(peaks)} requests/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"no-op pass over the same {count}: median {Median(noop):0.00} s, write requests {Median(noopWrites)} (max {noopWrites.Max()})   ({rounds} rounds)"));
        return 0;
    }

    private static List<RenderedObject> Objects(int count, string suffix)
    {
        var yaml = new System.Text.StringBuilder($"apiVersion: v1\nkind: Namespace\nmetadata: {{name: bench-{suffix}}}\n");
        for (var i = 1; i < count; i++)
        {
            yaml.Append(i % 3 == 0
                ? $"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{i}, namespace: bench-{suffix}}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: d{i}}}}}\n  template:\n    metadata: {{labels: {{app: d{i}}}}}\n    spec:\n      containers: [{{name: c, image: \"registry.example.com/app:{i}\", resources: {{requests: {{cpu: 10m, memory: 16Mi}}}}}}]\n"
                : i % 3 == 1
                    ? $"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: bench-{suffix}}}\ndata: {{key: value-{i}, other: \"{i}\"}}\n"
                    : $"---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: bench-{suffix}}}\nspec:\n  selector: {{app: d{i}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n");
        }

        var bag = new DiagnosticBag();
        return [.. YamlReader.ReadDocuments("bench.yaml", yaml.ToString(), bag).OfType<MappingNode>().Select(d =>
        {
            var body = Renderer.Ownership(d, ("edgeops.io/fleet", "bench"));
            var id = ObjectIdentity.From(body);
            return new RenderedObject(id, body, "bench", "Workload", id.Kind == "Namespace");
        })];
    }
}
