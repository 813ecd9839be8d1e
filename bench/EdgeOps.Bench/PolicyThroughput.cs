using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Policy.Evaluation;
using EdgeOps.Policy.Loading;
using EdgeOps.Policy.Sandbox;

namespace EdgeOps.Bench;

/// <summary>
/// The raw speed of the built-in policy library: every validate() policy over N varied Deployments
/// on one thread, under Jint (EdgeOps' sandbox) and under Node (the same JavaScript) in one run.
/// Each object is distinct and judged once, as <c>edgeops check</c> judges files: outcomes are not remembered.
/// </summary>
internal static class PolicyThroughput
{
    /// <summary>Measured rounds on each side; the median is reported (these machines are noisy).</summary>
    private const int Rounds = 5;

    public static int Run(int count, string policyDirectory, string repoRoot, IReadOnlyList<string> only, bool builtIn)
    {
        var documents = Enumerable.Range(0, count).Select(Deployment).ToList();
        var yaml = string.Join("---\n", documents);
        var bag = new DiagnosticBag();
        var objects = StandaloneTarget.Read("deployments.yaml", yaml, bag);
        var sources = builtIn
            ? BuiltInModules.PolicyNames.Select(PolicySourceFile.BuiltInPolicy)
            : Directory.GetFiles(policyDirectory, "*.js").Order(StringComparer.Ordinal).Select(f => new PolicySourceFile(Path.GetFileName(f), File.ReadAllText(f)));
        var set = PolicyLoader.Load(sources, bag);
        set = set with { Policies = [.. set.Policies.Where(p => only.Count == 0 || only.Contains(p.Name))] };
        if (bag.HasErrors)
        {
            Console.Error.WriteLine(string.Join("\n", bag.ToSortedList()));
            return 1;
        }

        // Warm up on a separate engine (JIT of the host and Jint's own caches), then measure rounds on fresh
        // engines over freshly read objects, so that no round finds an outcome or a content digest already made.
        var options = new PolicyEngineOptions { RememberOutcomes = false };
        using (var warm = new PolicyEngine(set, options))
        {
            warm.Evaluate(StandaloneTarget.For(objects.Take(Math.Min(500, count)), null));
        }

        var rounds = new List<(double Seconds, long Evaluations, long Allocated, int Collections, TimeSpan Paused)>();
        PolicyEvaluation? evaluation = null;
        for (var round = 0; round < Rounds; round++)
        {
            var fresh = round == 0 ? objects : StandaloneTarget.Read("deployments.yaml", yaml, new DiagnosticBag());
            using var engine = new PolicyEngine(set, options);
            var (collections, paused, allocated) = (GC.CollectionCount(0), GC.GetTotalPauseDuration(), GC.GetAllocatedBytesForCurrentThread());
            var stopwatch = Stopwatch.StartNew();
            evaluation = engine.Evaluate(StandaloneTarget.For(fresh, null));
            rounds.Add((stopwatch.Elapsed.TotalSeconds, engine.Statistics.Evaluations, GC.GetAllocatedBytesForCurrentThread() - allocated,
                GC.CollectionCount(0) - collections, GC.GetTotalPauseDuration() - paused));
        }

        var median = rounds.OrderBy(r => r.Seconds).ElementAt(rounds.Count / 2);
        var (jintSeconds, evaluations) = (median.Seconds, median.Evaluations);
        foreach (var error in evaluation!.Errors.Take(3))
        {
            Console.Error.WriteLine(error);
        }

        var json = Path.Combine(Path.GetTempPath(), $"edgeops-objects-{Environment.ProcessId}.json");
        File.WriteAllText(json, "[" + string.Join(",", objects.Select(o => Fleet.Yaml.JsonText.Write(o.Body))) + "]");
        var node = RunNode(json, policyDirectory, Path.Combine(repoRoot, "bench", "node", "policy-throughput.mjs"), set.Policies.Select(p => p.Name));
        File.Delete(json);

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"objects {count}, policy evaluations {evaluations} (violations found: {evaluation.Violations.Length}, policy errors: {evaluation.Errors.Length})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"jint : {jintSeconds:0.000} s  {evaluations / jintSeconds:N0} evaluations/s  {count / jintSeconds:N0} objects/s (one thread; median of {Rounds} rounds)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"       that round allocated {median.Allocated / 1048576.0:N0} MiB ({median.Allocated / Math.Max(1, evaluations):N0} bytes/evaluation) in {median.Collections} GCs, paused {median.Paused.TotalSeconds:0.000} s"));
        if (node is { } n)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"node : {n.Seconds:0.000} s  {n.Evaluations / n.Seconds:N0} evaluations/s  {count / n.Seconds:N0} objects/s ({n.Evaluations} evaluations; median of {Rounds} rounds)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"jint/node time ratio: {jintSeconds / n.Seconds:0.0}x"));
        }

        return 0;
    }

    private static (long Evaluations, double Seconds)? RunNode(string objects, string policies, string script, IEnumerable<string> only)
    {
        try
        {
            var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add(objects);
            psi.ArgumentList.Add(policies);
            psi.ArgumentList.Add(Rounds.ToString(CultureInfo.InvariantCulture));
            foreach (var name in only)
            {
                psi.ArgumentList.Add(name);
            }
            using var process = Process.Start(psi)!;
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.Error.WriteLine($"node failed: {error}");
                return null;
            }

            using var result = JsonDocument.Parse(output);
            return (result.RootElement.GetProperty("evaluations").GetInt64(), result.RootElement.GetProperty("seconds").GetDouble());
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine("node is not installed; only the Jint figures are shown");
            return null;
        }
    }

    /// <summary>A Deployment that differs from every other: names, images, replicas, probes, security settings.</summary>
    private static string Deployment(int i)
    {
        var hardened = i % 3 != 0;
        var security = hardened
            ? "securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, runAsNonRoot: true}"
            : i % 7 == 0 ? "securityContext: {privileged: true}" : "securityContext: {}";
        var image = (i % 5) switch
        {
            0 => $"registry.example.com/team-{i % 13}/svc-{i}:1.{i % 50}.0",
            1 => $"ghcr.io/org/svc-{i}:2.{i % 9}.{i % 4}@sha256:{i:x64}",
            2 => $"svc-{i}:latest",
            3 => $"docker.io/library/nginx:1.{i % 30}",
            _ => $"quay.io/org/svc-{i}",
        };
        var resources = i % 4 == 0 ? string.Empty : $"resources: {{requests: {{cpu: {10 + (i % 90)}m, memory: {32 + (i % 200)}Mi}}, limits: {{cpu: {100 + (i % 900)}m, memory: {64 + (i % 400)}Mi}}}}";
        var volumes = i % 11 == 0 ? "volumes: [{name: dev, hostPath: {path: /dev/video0}}]" : "volumes: [{name: tmp, emptyDir: {}}]";
        return string.Create(CultureInfo.InvariantCulture, $$$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: svc-{{{i}}}
              namespace: ns-{{{i % 17}}}
              labels: {app: svc-{{{i}}}, tier: t{{{i % 4}}}}
            spec:
              replicas: {{{1 + (i % 5)}}}
              selector: {matchLabels: {app: svc-{{{i}}}}}
              template:
                metadata:
                  labels: {app: svc-{{{i}}}}
                spec:
                  hostNetwork: {{{(i % 23 == 0 ? "true" : "false")}}}
                  securityContext: {seccompProfile: {type: {{{(i % 2 == 0 ? "RuntimeDefault" : "Unconfined")}}}}}
                  initContainers:
                    - name: init-{{{i}}}
                      image: busybox:1.36
                      {{{security}}}
                  containers:
                    - name: main-{{{i}}}
                      image: {{{image}}}
                      ports: [{containerPort: {{{8000 + (i % 1000)}}}}]
                      readinessProbe: {httpGet: {path: /healthz, port: {{{8000 + (i % 1000)}}}}}
                      {{{security}}}
                      {{{resources}}}
                    - name: sidecar
                      image: ghcr.io/org/proxy:3.{{{i % 7}}}
                      {{{security}}}
                  {{{volumes}}}

            """);
    }
}
