using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Policy.Evaluation;
using EdgeOps.Policy.Loading;
using EdgeOps.Policy.Sandbox;

namespace EdgeOps.Policy.Tests;

/// <summary>Loads policies from text and evaluates YAML objects against them.</summary>
internal static class PolicyHarness
{
    public static (PolicySet Set, IReadOnlyList<Diagnostic> Diagnostics) Load(params (string File, string Source)[] policies)
    {
        var bag = new DiagnosticBag();
        var set = PolicyLoader.Load(policies.Select(p => new PolicySourceFile(p.File, p.Source)), bag);
        return (set, bag.ToSortedList());
    }

    /// <summary>A policy "p" on Pods whose validate(object, ctx) has the given body.</summary>
    public static PolicySet PodPolicy(string validateBody)
    {
        var source = $$"""
            export const policy = { name: "p", severity: "error", match: { kinds: ["Pod"] } };
            export function validate(object, ctx) {
            {{validateBody}}
            }
            """;
        var (set, diagnostics) = Load(("p.js", source));
        Assert.Empty(diagnostics);
        return set;
    }

    public static PolicySet BuiltIn(params string[] names)
    {
        var bag = new DiagnosticBag();
        var set = PolicyLoader.Load(names.Select(PolicySourceFile.BuiltInPolicy), bag);
        Assert.Empty(bag.ToSortedList());
        return set;
    }

    public static IReadOnlyList<ManifestDocument> Objects(string yaml, string file = "objects.yaml")
    {
        var bag = new DiagnosticBag();
        var documents = StandaloneTarget.Read(file, yaml, bag);
        Assert.Empty(bag.ToSortedList());
        return documents;
    }

    public static Cluster Cluster(string yaml)
    {
        var bag = new DiagnosticBag();
        var cluster = EdgeOps.Fleet.Loading.FleetLoader.ReadCluster("cluster.yaml", yaml, bag);
        Assert.Empty(bag.ToSortedList());
        return cluster!;
    }

    public static PolicyEvaluation Evaluate(PolicySet set, string objectsYaml, Cluster? cluster = null, PolicyEngineOptions? options = null)
    {
        using var engine = new PolicyEngine(set, options);
        return engine.Evaluate(StandaloneTarget.For(Objects(objectsYaml), cluster));
    }

    public static PolicyLimits FastLimits => new()
    {
        MaxStatements = 200_000,
        Timeout = TimeSpan.FromSeconds(2),
        MaxMemoryBytes = 16L * 1024 * 1024,
        RegexTimeout = TimeSpan.FromMilliseconds(100),
    };

    public const string Pod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: app
        spec:
          containers:
            - name: main
              image: ghcr.io/example/app:1.0
        """;
}
