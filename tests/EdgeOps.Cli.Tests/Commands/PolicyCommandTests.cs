using System.Text.Json;
using System.Xml.Linq;
using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

public sealed class PolicyCommandTests
{
    private const string Manifests = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: root-pod
          namespace: tools
        spec:
          containers:
            - name: shell
              image: busybox:1.36
              securityContext:
                privileged: true
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
        data:
          a: b
        """;

    [Fact]
    public async Task Validate_PolicyPathNamingOneFile_LoadsThatFile()
    {
        using var fleet = new TempFleet(withFleet: false);
        fleet.Write("fleet.yaml", TempFleet.FleetYaml + "spec:\n  policies:\n    paths: [policies/named.js]\n");
        fleet.Write("policies/named.js", """
            export const policy = { name: "named", description: "a policy named by its file", severity: "warning", controls: ["seen"], match: { kinds: ["ConfigMap"] } };
            export function validateCluster(desired, ctx) { return [{ control: "seen", message: `seen on ${ctx.cluster.name}` }]; }
            """);
        fleet.Write("policies/other.js", "this file is not named and must not be loaded (");
        fleet.Cluster("edge-1");

        var result = await CliRunner.RunAsync("validate", fleet.Root);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("warning EO6001: named/seen: seen on edge-1", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_ManifestWithViolations_ExitsOneWithLocatedLines()
    {
        using var dir = new TempFleet(withFleet: false);
        dir.Write("app.yaml", Manifests);
        var file = Path.Combine(dir.Root, "app.yaml");

        var result = await CliRunner.RunAsync("check", "--builtin", "pod-security-baseline", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{file}:11:21: error EO6001: pod-security-baseline/privileged: container \"shell\" must not be privileged (Pod tools/root-pod)", result.Out, StringComparison.Ordinal);
        Assert.Contains("2 objects, 1 policies: 1 error violations, 0 warnings, 0 policy errors", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_JsonOutput_HasTheDocumentedShape()
    {
        using var dir = new TempFleet(withFleet: false);
        dir.Write("app.yaml", Manifests);
        var file = Path.Combine(dir.Root, "app.yaml");

        var result = await CliRunner.RunAsync("check", "-b", "pod-security-baseline", "-b", "resources", "-o", "json", file);

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        var objects = json.RootElement.GetProperty("objects");
        Assert.Equal(2, objects.GetArrayLength());
        var pod = objects[0];
        Assert.Equal(file, pod.GetProperty("file").GetString());
        Assert.Equal(0, pod.GetProperty("document").GetInt32());
        Assert.Equal(("v1", "Pod", "tools", "root-pod"), (pod.GetProperty("apiVersion").GetString(), pod.GetProperty("kind").GetString(),
            pod.GetProperty("namespace").GetString(), pod.GetProperty("name").GetString()));
        var controls = pod.GetProperty("violations").EnumerateArray().Select(v => $"{v.GetProperty("policy").GetString()}/{v.GetProperty("control").GetString()}").Order().ToList();
        Assert.Equal(["pod-security-baseline/privileged", "resources/cpuLimit", "resources/cpuRequest", "resources/memoryLimit", "resources/memoryRequest"], controls);
        var privileged = pod.GetProperty("violations").EnumerateArray().Single(v => v.GetProperty("control").GetString() == "privileged");
        Assert.Equal("error", privileged.GetProperty("severity").GetString());
        Assert.Equal("spec.containers[0].securityContext.privileged", privileged.GetProperty("path").GetString());
        Assert.Equal(1, objects[1].GetProperty("document").GetInt32());
        Assert.Equal(JsonValueKind.Null, objects[1].GetProperty("namespace").ValueKind);
        Assert.Empty(objects[1].GetProperty("violations").EnumerateArray());
        Assert.Equal(5, json.RootElement.GetProperty("summary").GetProperty("errors").GetInt32());
    }

    [Fact]
    public async Task Check_CustomPolicyWithAClusterFile_SeesTheCluster()
    {
        using var dir = new TempFleet(withFleet: false);
        dir.Write("policies/tier.js", """
            export const policy = { name: "tier", severity: "warning", match: { kinds: ["ConfigMap"] } };
            export function validate(object, ctx) { return `on ${ctx.cluster.labels.tier}`; }
            """);
        dir.Write("cluster.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: robot-9\n  labels:\n    tier: micro\n");
        dir.Write("app.yaml", Manifests);

        var result = await CliRunner.RunAsync("check", "--policies", Path.Combine(dir.Root, "policies"), "--cluster-file", Path.Combine(dir.Root, "cluster.yaml"), Path.Combine(dir.Root, "app.yaml"));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("warning EO6001: tier: on micro (ConfigMap settings)", result.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("check", "--builtin", "resources", "/nonexistent.yaml")]
    [InlineData("check", "--builtin", "no-such-policy", "x.yaml")]
    [InlineData("check", "x.yaml")]
    [InlineData("test", "/nonexistent/policies")]
    public async Task PolicyCommands_BadUsage_ExitTwo(params string[] args)
    {
        var result = await CliRunner.RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("edgeops: ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_UnparsableManifest_ExitsTwoWithALocatedError()
    {
        using var dir = new TempFleet(withFleet: false);
        dir.Write("bad.yaml", "kind: Pod\nmetadata: {name: [\n");

        var result = await CliRunner.RunAsync("check", "-b", "resources", Path.Combine(dir.Root, "bad.yaml"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("bad.yaml:", result.Error, StringComparison.Ordinal);
        Assert.Contains("error EO1002", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_TheBuiltInLibrary_Passes()
    {
        var result = await CliRunner.RunAsync("test", Path.Combine(RepoPaths.Root, "policies"));

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"(?m)^\d+ passed, 0 failed$", result.Out);
        Assert.DoesNotContain("FAIL", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_AWrongExpectation_FailsWithJUnitOutput()
    {
        using var dir = new TempFleet(withFleet: false);
        dir.Write("tests/case.yaml", """
            apiVersion: edgeops.io/v1alpha1
            kind: PolicyTest
            metadata: {name: wrong-on-purpose}
            spec:
              policies: [resources]
              objects:
                - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: x:1}]}}
              expect:
                - {object: Pod/p, policy: resources, control: cpuRequest, result: pass}
                - {object: Pod/p, policy: resources, control: memoryLimit, result: fail}
            """);

        var text = await CliRunner.RunAsync("test", dir.Root);
        var junit = await CliRunner.RunAsync("test", dir.Root, "-o", "junit");

        Assert.Equal(1, text.ExitCode);
        Assert.Contains("FAIL  wrong-on-purpose: Pod/p resources/cpuRequest should pass", text.Out, StringComparison.Ordinal);
        Assert.Contains("1 passed, 1 failed", text.Out, StringComparison.Ordinal);
        Assert.Equal(1, junit.ExitCode);
        var xml = XDocument.Parse(junit.Out);
        var cases = xml.Descendants("testcase").ToList();
        Assert.Equal(2, cases.Count);
        Assert.Single(cases, c => c.Element("failure") is not null);
        Assert.Equal("1", xml.Root!.Attribute("failures")!.Value);
    }

    [Fact]
    public async Task Validate_ExampleFleet_ShowsPoliciesAndCosts()
    {
        var result = await CliRunner.RunAsync("validate", RepoPaths.ExampleFleet);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"(?m)^CLUSTER\s+WORKLOADS\s+DEVICES\s+OBJECTS\s+ERRORS\s+WARNINGS\s+COST/MONTH$", result.Out);
        Assert.Matches(@"(?m)^robot-es-0001\s+4\s+1\s+13\s+0\s+0\s+\d+\.\d\d EUR$", result.Out);
        Assert.Matches(@"(?m)^pod-security-baseline\s+0\s+0\s+0$", result.Out);
        Assert.Matches(@"(?m)^robot-replicas\s+0\s+0\s+0$", result.Out);
    }

    [Fact]
    public async Task Validate_SarifOfAPolicyViolation_UsesThePolicyControlAsRule()
    {
        using var fleet = new TempFleet(withFleet: false);
        fleet.Write("fleet.yaml", TempFleet.FleetYaml + "spec:\n  policies:\n    builtIn: [pod-security-baseline]\n");
        fleet.Cluster("a");
        fleet.Workload("app", manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: c, image: x:1}]\n");

        var result = await CliRunner.RunAsync("validate", fleet.Root, "-o", "sarif");

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        var run = json.RootElement.GetProperty("runs")[0];
        var sarifResult = run.GetProperty("results")[0];
        Assert.Equal("pod-security-baseline/hostNamespaces", sarifResult.GetProperty("ruleId").GetString());
        var region = sarifResult.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("region");
        Assert.Equal((5, 12), (region.GetProperty("startLine").GetInt32(), region.GetProperty("startColumn").GetInt32()));
    }
}
