using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Policy.Evaluation;

namespace EdgeOps.Policy.Tests.Sandbox;

/// <summary>
/// Hostile or broken policies: each is reported against the policy with its file and line, the
/// process survives, and the other policies still run and report.
/// </summary>
public sealed class BadPolicyTests
{
    /// <summary>A well-behaved policy that always reports one violation, to prove the run went on.</summary>
    private const string Good = """
        export const policy = { name: "good", severity: "error", match: { kinds: ["Pod"] } };
        export function validate(object) { return "seen " + object.metadata.name; }
        """;

    private static string Bad(string body, string name = "bad") => $$"""
        export const policy = { name: "{{name}}", severity: "error", match: { kinds: ["Pod"] } };
        export function validate(object, ctx) {
        {{body}}
        }
        """;

    private static PolicyEvaluation RunWithGood(string badSource)
    {
        var (set, diagnostics) = PolicyHarness.Load(("policies/bad.js", badSource), ("policies/good.js", Good));
        Assert.Empty(diagnostics);
        var evaluation = PolicyHarness.Evaluate(set, PolicyHarness.Pod, options: new PolicyEngineOptions { Limits = PolicyHarness.FastLimits });
        var good = Assert.Single(evaluation.Violations);
        Assert.Equal(("good", "seen app"), (good.Policy, good.Message));
        return evaluation;
    }

    [Fact]
    public void SyntaxError_IsReportedAtItsLineAndColumn_AndOtherPoliciesLoad()
    {
        var (set, diagnostics) = PolicyHarness.Load(("policies/bad.js", "export const policy = { name: \"bad\" };\nexport function validate() { return 1 +; }\n"), ("policies/good.js", Good));

        var d = Assert.Single(diagnostics);
        Assert.Equal(Codes.PolicySyntax, d.Code);
        Assert.Equal("policies/bad.js", d.Location.Path);
        Assert.Equal((2, 40), (d.Location.Line, d.Location.Column)); // the ";" after "+"
        Assert.Equal(["good"], set.Policies.Select(p => p.Name));
    }

    [Fact]
    public void Throwing_IsReportedAtTheThrowStatement()
    {
        var evaluation = RunWithGood(Bad("  if (object.kind === \"Pod\") {\n    throw new Error(\"boom\");\n  }"));

        var d = Assert.Single(evaluation.Errors);
        Assert.Equal(Codes.PolicyRuntime, d.Code);
        Assert.Equal(new SourceLocation("policies/bad.js", 4, 11), d.Location); // the Error being thrown
        Assert.Contains("boom", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InfiniteLoop_IsStoppedByTheStatementLimit()
    {
        var evaluation = RunWithGood(Bad("  while (true) {}"));

        var d = Assert.Single(evaluation.Errors);
        Assert.Equal(Codes.PolicyLimit, d.Code);
        Assert.Contains("statement limit", d.Message, StringComparison.Ordinal);
        Assert.Equal(new SourceLocation("policies/bad.js", 2, 1), d.Location);
    }

    [Fact]
    public void UnboundedAllocation_IsStoppedByTheMemoryLimit()
    {
        var evaluation = RunWithGood(Bad("  const hoard = [];\n  for (;;) { hoard.push(new Array(10000).fill(hoard.length)); }"));

        Assert.Contains("memory limit", Assert.Single(evaluation.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnboundedRecursion_IsStoppedWithoutKillingTheProcess()
    {
        var evaluation = RunWithGood(Bad("  const dive = (n) => dive(n + 1) + 1;\n  return dive(0);"));

        Assert.Contains("call-depth limit", Assert.Single(evaluation.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CatastrophicRegex_IsStoppedByTheRegexTimeout()
    {
        var evaluation = RunWithGood(Bad("  return /^(a+)+$/.test(\"a\".repeat(40) + \"!\") ? \"matched\" : undefined;"));

        var d = Assert.Single(evaluation.Errors);
        Assert.Equal(Codes.PolicyLimit, d.Code);
        Assert.Contains("regular expression", d.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("return 42;", "returned 42")]
    [InlineData("return { path: \"spec\" };", "without a string message")]
    [InlineData("return [[\"nested\"]];", "nested array")]
    [InlineData("return { message: \"x\", severity: \"fatal\" };", "severity 'fatal'")]
    [InlineData("return { message: \"x\", control: \"made-up\" };", "control 'made-up'")]
    public void InvalidResult_IsReportedAndNotTakenAsAViolation(string body, string expected)
    {
        var source = Bad("  " + body).Replace("severity: \"error\",", "severity: \"error\", controls: [\"real\"],", StringComparison.Ordinal);
        var evaluation = RunWithGood(source);

        var d = Assert.Single(evaluation.Errors);
        Assert.Equal(Codes.PolicyInvalidResult, d.Code);
        Assert.Contains(expected, d.Message, StringComparison.Ordinal);
        Assert.Equal(2, d.Location.Line);
    }

    [Fact]
    public void MissingModule_IsReportedAtTheImport()
    {
        var (set, diagnostics) = PolicyHarness.Load(("policies/bad.js", "import { x } from \"lodash\";\n" + Bad("  return x;")), ("policies/good.js", Good));

        var d = Assert.Single(diagnostics);
        Assert.Equal((Codes.PolicyImport, 1, 19), (d.Code, d.Location.Line, d.Location.Column));
        Assert.Contains("'lodash'", d.Message, StringComparison.Ordinal);
        Assert.Single(set.Policies);
    }

    [Fact]
    public void MutatingTheObject_FailsThatPolicyAndLeavesTheObjectIntactForOthers()
    {
        // "a-mutator" sorts before "good", so it runs first on the same object.
        var mutator = Bad("  object.metadata.name = \"hijacked\";\n  return \"changed\";", "a-mutator");
        var (set, diagnostics) = PolicyHarness.Load(("policies/a-mutator.js", mutator), ("policies/good.js", Good));
        Assert.Empty(diagnostics);

        var evaluation = PolicyHarness.Evaluate(set, PolicyHarness.Pod);

        Assert.Equal("seen app", Assert.Single(evaluation.Violations).Message);
        var d = Assert.Single(evaluation.Errors);
        Assert.Equal(Codes.PolicyRuntime, d.Code);
        Assert.Contains("TypeError", d.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ctx.cluster.labels.tier = \"near\";")]
    [InlineData("delete ctx.cluster.labels.tier;")]
    [InlineData("Object.defineProperty(ctx.cluster, \"name\", { value: \"x\" });")]
    public void MutatingTheContext_IsRefused(string body)
    {
        var (set, _) = PolicyHarness.Load(("policies/bad.js", Bad("  " + body)));
        var cluster = PolicyHarness.Cluster("metadata:\n  name: robot-1\n  labels:\n    tier: micro\n");

        var evaluation = PolicyHarness.Evaluate(set, PolicyHarness.Pod, cluster);

        Assert.Contains("the policy context is read-only", Assert.Single(evaluation.Errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("return eval(\"1\");")]
    [InlineData("return new Function(\"return 1\")();")]
    [InlineData("return Math.random();")]
    [InlineData("return typeof System.IO;")]
    public void SandboxEscapes_AreRefused(string body)
    {
        var evaluation = RunWithGood(Bad("  " + body));

        Assert.Equal(Codes.PolicyRuntime, Assert.Single(evaluation.Errors).Code);
    }

    [Fact]
    public void Clock_IsFixedForTheRun()
    {
        var source = """
            export const policy = { name: "clock", severity: "warning", match: { kinds: ["Pod"] } };
            export function validate(object, ctx) { return `${Date.now()} ${new Date().toISOString()} ${ctx.now}`; }
            """;
        var (set, _) = PolicyHarness.Load(("policies/clock.js", source));
        var now = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

        var evaluation = PolicyHarness.Evaluate(set, PolicyHarness.Pod, options: new PolicyEngineOptions { Now = now });

        Assert.Equal($"{now.ToUnixTimeMilliseconds()} 2026-11-27T12:00:00.000Z 2026-11-27T12:00:00.000Z", Assert.Single(evaluation.Violations).Message);
    }

    [Theory]
    [InlineData("export const policy = { severity: \"error\" };\nexport function validate() {}", "policy.name")]
    [InlineData("export const policy = { name: \"x\", severity: \"fatal\" };\nexport function validate() {}", "policy.severity")]
    [InlineData("export const policy = { name: \"x\" };", "must export a function")]
    [InlineData("export function validate() {}", "must export its declaration")]
    [InlineData("export const policy = { name: \"x\", match: { kinds: \"Pod\" } };\nexport function validate() {}", "policy.match.kinds")]
    public void InvalidDefinition_IsReported(string source, string expected)
    {
        var (set, diagnostics) = PolicyHarness.Load(("policies/x.js", source));

        var d = Assert.Single(diagnostics);
        Assert.Equal(Codes.PolicyDefinition, d.Code);
        Assert.Contains(expected, d.Message, StringComparison.Ordinal);
        Assert.Empty(set.Policies);
    }

    [Fact]
    public void DuplicateNames_KeepTheFirst()
    {
        var (set, diagnostics) = PolicyHarness.Load(("policies/a.js", Good), ("policies/b.js", Good));

        Assert.Equal(Codes.PolicyUnknown, Assert.Single(diagnostics).Code);
        Assert.Equal("policies/a.js", Assert.Single(set.Policies).File);
    }
}
