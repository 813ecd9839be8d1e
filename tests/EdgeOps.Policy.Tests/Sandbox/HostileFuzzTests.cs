using System.Diagnostics;
using System.Text;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Policy.Checks;
using EdgeOps.Policy.Loading;
using EdgeOps.Tests;

namespace EdgeOps.Policy.Tests.Sandbox;

/// <summary>
/// Seeded fuzzing from the known attacks: random hostile policies (module body and entry point) and
/// random hostile fleets. For every case: a verdict within 10 s, managed memory under 1 GiB, no crash,
/// and the built-in Pod Security policy still denies the privileged Pod planted in every case.
/// A failing seed and case number replay exactly.
/// </summary>
public sealed class HostileFuzzTests
{
    private const int Seed = 20_261_129;
    private const long MemoryCeiling = 1L << 30;

    private static readonly string[] PolicyIngredients =
    [
        "for (;;) {}",
        "{ const o = {}; o.toString = () => '' + o; String(o); }",
        "{ const o = {}; o.valueOf = () => o * 2; Number(o); }",
        "{ const p = new Proxy({}, { get: (t, k, r) => r[k] }); p.x; }",
        "Object.defineProperty(Object.prototype, 'severity', { get() { return 'warning'; }, configurable: true });",
        "Array.prototype.push = function () { return 0; }; Array.prototype.some = () => false;",
        "Object.keys = () => 42; Object.freeze = (x) => x;",
        "{ let a = []; for (let i = 0; i < 100000; i++) a = [a]; JSON.stringify(a); }",
        "{ let a = []; for (let i = 0; i < 100000; i++) a = [a]; a.join(','); }",
        "/^(a+)+$/.test('a'.repeat(40) + '!');",
        "new Array(1e7).fill('x');",
        "{ let s = 'x'; for (;;) s += s; }",
        "new ShadowRealm();",
        "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);",
        "Temporal.Now.instant();",
        "throw { get message() { for (;;) {} } };",
    ];

    private static readonly string[] Returns =
    [
        "return [];",
        "return new Array(1e6).fill('x');",
        "return [{ get message() { throw new Error('boom'); } }];",
        "return new Proxy([], { get() { for (;;) {} } });",
        "return { get then() { for (;;) {} } };",
        "return 'y'.repeat(200000);",
        "return [[1]];",
        "return { message: 'x', severity: { toString() { for (;;) {} } } };",
    ];

    public static TheoryData<int> PolicyCases() => [.. Enumerable.Range(0, 48)];

    [Theory]
    [MemberData(nameof(PolicyCases))]
    public void RandomHostilePolicy_GetsAVerdict_AndTheBuiltInsStillDeny(int number)
    {
        var random = new Random(Seed + number);
        var source = new StringBuilder();
        if (random.Next(3) == 0)
        {
            source.AppendLine(Guarded(random, Pick(random, PolicyIngredients)));
        }

        if (random.Next(2) == 0)
        {
            source.AppendLine("import { baselineChecks } from \"edgeops/pss\"; import { image } from \"edgeops\";");
            source.AppendLine("for (const k of Object.keys(baselineChecks)) baselineChecks[k] = () => []; image.parse = () => ({});");
        }

        source.AppendLine(random.Next(4) == 0
            ? "export const policy = { get name() { " + Pick(random, PolicyIngredients) + " return 'fuzz'; }, severity: 'error' };"
            : "export const policy = { name: 'fuzz', severity: 'error' };");
        source.AppendLine("export function validate(object, ctx) {");
        source.AppendLine("  " + Guarded(random, Pick(random, PolicyIngredients)));
        source.AppendLine("  " + Pick(random, Returns));
        source.AppendLine("}");

        var (evaluation, _) = Measure(number, source.ToString(), () => HostilePolicyTests.Run("policies/fuzz.js", source.ToString()));

        Assert.Contains(evaluation.Violations, v => v.Policy == "pod-security-baseline" && v.Severity == PolicySeverity.Error && v.Control == "privileged");
    }

    public static TheoryData<int> FleetCases() => [.. Enumerable.Range(0, 12)];

    [Theory]
    [MemberData(nameof(FleetCases))]
    public void RandomHostileFleet_GetsAVerdict_AndTheBuiltInsStillDeny(int number)
    {
        var random = new Random(Seed - number);
        using var fleet = new TempFleet(withFleet: false);
        fleet.Write("fleet.yaml", TempFleet.FleetYaml + "spec:\n  policies:\n    builtIn: [pod-security-baseline]\n    paths: [policies]\n");
        fleet.Cluster("edge-1");
        fleet.Workload("root", manifest: HostilePolicyTests.PrivilegedPod);
        fleet.Write("policies/fuzz.js", "export const policy = { name: 'fuzz', severity: 'error' };\nexport function validate() {\n  " + Guarded(random, Pick(random, PolicyIngredients)) + "\n  " + Pick(random, Returns) + "\n}\n");
        for (var i = 0; i < 1 + random.Next(3); i++)
        {
            PlantHostileInput(random, fleet, i);
        }

        var diagnostics = Measure(number, "fleet", () =>
        {
            using var source = new DirectoryFleetSource(fleet.Root);
            return new FleetValidator().Validate(source, new ValidationOptions { Checks = [new PolicyFleetCheck()] }).Diagnostics;
        });

        Assert.Contains(diagnostics, d => d.Rule == "pod-security-baseline/privileged" && d.IsError);
    }

    private static void PlantHostileInput(Random random, TempFleet fleet, int index)
    {
        switch (random.Next(5))
        {
            case 0:
                {
                    var text = new StringBuilder($"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: bomb{index}}}\ndata:\n  big: &big \"").Append('x', 50_000).Append("\"\n  all: [");
                    text.AppendJoin(", ", Enumerable.Repeat("*big", 5_000)).Append("]\n");
                    fleet.Workload($"alias{index}", manifest: text.ToString());
                    break;
                }

            case 1:
                fleet.Workload($"subst{index}", "values:\n  big: [" + string.Join(", ", Enumerable.Range(0, 20_000)) + "]",
                    $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: subst{index}}}\ndata:\n" + string.Concat(Enumerable.Range(0, 150).Select(i => $"  k{i}: ${{values.big}}\n")));
                break;
            case 2:
                fleet.Workload($"patch{index}", "overlays:\n  - name: grow\n    clusterSelector: {}\n    patches:\n      - target: {kind: ConfigMap, name: seed" + index + "}\n        json:"
                    + string.Concat(Enumerable.Range(0, 30).Select(i => $"\n          - {{op: copy, from: /data, path: /data/d{i}}}")),
                    $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: seed{index}}}\ndata: {{k: v}}\n");
                break;
            case 3:
                fleet.Symlink($"root{index}", ".");
                break;
            default:
                using (var mkfifo = Process.Start("mkfifo", Path.Combine(fleet.Root, $"pipe{index}.yaml")))
                {
                    mkfifo.WaitForExit();
                }

                break;
        }
    }

    private static T Measure<T>(int number, string what, Func<T> run)
    {
        GC.Collect();
        long peak = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                await Task.Delay(20);
            }
        });
        var watch = Stopwatch.StartNew();
        var task = Task.Run(run);
        var finished = task.Wait(TimeSpan.FromSeconds(10));
        stop.Cancel();
        sampler.Wait();
        Assert.True(finished, $"case {number} gave no verdict within 10 s:\n{what}");
        Assert.True(peak < MemoryCeiling, $"case {number} peaked at {peak:N0} bytes of managed memory:\n{what}");
        _ = watch;
        return task.Result;
    }

    private static string Pick(Random random, string[] from) => from[random.Next(from.Length)];

    private static string Guarded(Random random, string statement) => random.Next(2) == 0 ? statement : $"try {{ {statement} }} catch (e) {{ }}";
}
