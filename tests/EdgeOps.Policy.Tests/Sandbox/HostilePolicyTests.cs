using System.Diagnostics;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Policy.Evaluation;
using EdgeOps.Policy.Loading;
using EdgeOps.Policy.Sandbox;
using EdgeOps.Tests;

namespace EdgeOps.Policy.Tests.Sandbox;

/// <summary>
/// Policies from less-trusted authors: each file in testdata/hostile is one attack, with the verdict it
/// must get on its first line (<c>// expect: CODE text</c>, or <c>none</c>). Every case runs beside the
/// built-in pod-security-baseline on a privileged Pod: the attack gets its located verdict, the process
/// survives, and the built-in policy still denies the Pod — no policy can switch another off.
/// </summary>
public sealed class HostilePolicyTests
{
    private static readonly string Folder = Path.Combine(RepoPaths.Root, "tests", "EdgeOps.Policy.Tests", "testdata", "hostile");

    internal const string PrivilegedPod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: root
        spec:
          hostPID: true
          containers:
            - name: main
              image: ghcr.io/example/app:1.0
              securityContext: {privileged: true}
        """;

    public static TheoryData<string> Cases() => [.. Directory.EnumerateFiles(Folder, "*.js").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void HostilePolicy_GetsItsVerdict_AndTheBuiltInsStillDenyThePrivilegedPod(string name)
    {
        var source = File.ReadAllText(Path.Combine(Folder, name));
        var expect = source.Split('\n')[0].Replace("// expect:", string.Empty, StringComparison.Ordinal).Trim();
        var file = "policies/" + name;
        var watch = Stopwatch.StartNew();

        var (evaluation, loadDiagnostics) = Run(file, source);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{name} took {watch.Elapsed}");
        Assert.Contains(evaluation.Violations, v => v.Policy == "pod-security-baseline" && v.Severity == PolicySeverity.Error && v.Control == "privileged");
        Assert.Contains(evaluation.Violations, v => v.Policy == "pod-security-baseline" && v.Severity == PolicySeverity.Error && v.Control == "hostNamespaces");
        var ours = loadDiagnostics.Concat(evaluation.Errors).Where(d => d.Location.Path == file || d.Message.Contains("'hostile'", StringComparison.Ordinal)).ToList();
        var violations = evaluation.Violations.Where(v => v.Policy == "hostile").ToList();
        if (expect == "none")
        {
            Assert.Empty(ours);
            Assert.Empty(violations);
            return;
        }

        var code = expect[..6];
        var text = expect[7..];
        if (code == Codes.PolicyViolation)
        {
            Assert.Empty(ours);
            Assert.Contains(violations, v => v.Message.Contains(text, StringComparison.Ordinal));
            Assert.All(violations, v => Assert.True(v.Message.Length <= PolicyRealm.MaxMessageLength + 1, $"a message of {v.Message.Length} characters"));
            Assert.True(violations.Count <= PolicyRealm.MaxViolations + 1, $"{violations.Count} violations kept");
            return;
        }

        var failure = Assert.Single(ours);
        Assert.Equal(code, failure.Code);
        Assert.Equal(file, failure.Location.Path);
        Assert.Contains(text, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContextReadThroughADescriptor_IsTracked_SoTheCacheNeverSharesOneClustersAnswer()
    {
        var (set, diagnostics) = PolicyHarness.Load(("policies/tier.js", """
            export const policy = { name: "tier", severity: "error" };
            export function validate(object, ctx) {
              const labels = Object.getOwnPropertyDescriptor(ctx.cluster, "labels").value;
              return labels.tier === "far" ? "far clusters may not run this" : [];
            }
            """));
        Assert.Empty(diagnostics);
        using var engine = new PolicyEngine(set);
        PolicyEvaluation On(string tier) => engine.Evaluate(StandaloneTarget.For(PolicyHarness.Objects(PolicyHarness.Pod),
            PolicyHarness.Cluster($"metadata:\n  name: c-{tier}\n  labels:\n    tier: {tier}\n")));

        Assert.Empty(On("near").Violations);
        Assert.Single(On("far").Violations);
        Assert.Empty(On("micro").Violations);
    }

    internal static (PolicyEvaluation Evaluation, IReadOnlyList<Diagnostic> LoadDiagnostics) Run(string file, string source, string objects = PrivilegedPod)
    {
        var bag = new DiagnosticBag();
        var set = PolicyLoader.Load([new PolicySourceFile(file, source), PolicySourceFile.BuiltInPolicy("pod-security-baseline")], bag);
        var cluster = PolicyHarness.Cluster("metadata:\n  name: robot-1\n  labels:\n    tier: micro\n");
        var evaluation = PolicyHarness.Evaluate(set, objects, cluster, new PolicyEngineOptions { Limits = PolicyLimits.Default });
        return (evaluation, bag.ToSortedList());
    }
}
