namespace EdgeOps.Policy.Tests.Library;

/// <summary>The "edgeops" helper module, exercised the way policies use it.</summary>
public sealed class HelperModuleTests
{
    /// <summary>Evaluates a JS expression inside a policy and returns its JSON text.</summary>
    private static string Eval(string expression, string objectYaml = PolicyHarness.Pod)
    {
        var source = $$"""
            import { podSpecs, containers, quantity, geo, image, semver } from "edgeops";
            export const policy = { name: "probe", severity: "warning" };
            export function validate(object) { return JSON.stringify({{expression}}); }
            """;
        var (set, diagnostics) = PolicyHarness.Load(("probe.js", source));
        Assert.Empty(diagnostics);
        var evaluation = PolicyHarness.Evaluate(set, objectYaml);
        Assert.Empty(evaluation.Errors);
        return Assert.Single(evaluation.Violations).Message;
    }

    [Theory]
    [InlineData("quantity.parse(\"500m\")", "0.5")]
    [InlineData("quantity.parse(\"1Gi\")", "1073741824")]
    [InlineData("quantity.parse(\"1e3\")", "1000")]
    [InlineData("quantity.parse(\"2M\")", "2000000")]
    [InlineData("quantity.isValid(\"lots\")", "false")]
    [InlineData("quantity.compare(\"900m\", \"1\")", "-1")]
    [InlineData("quantity.sum([\"250m\", \"0.5\", undefined, \"1\"])", "1.75")]
    public void Quantity(string expression, string expected) => Assert.Equal(expected, Eval(expression));

    [Theory]
    [InlineData("image.parse(\"nginx\")", """{"registry":"docker.io","repository":"library/nginx","tag":null,"digest":null,"reference":"nginx"}""")]
    [InlineData("image.parse(\"team/app:1.2\").repository", "\"team/app\"")]
    [InlineData("image.parse(\"localhost:5000/app:dev\").registry", "\"localhost:5000\"")]
    [InlineData("image.parse(\"ghcr.io/o/a:1@sha256:ab\")", """{"registry":"ghcr.io","repository":"o/a","tag":"1","digest":"sha256:ab","reference":"ghcr.io/o/a:1@sha256:ab"}""")]
    public void Image(string expression, string expected) => Assert.Equal(expected, Eval(expression));

    [Theory]
    [InlineData("semver.compare(\"1.2.3\", \"1.10.0\")", "-1")]
    [InlineData("semver.compare(\"v2.0.0\", \"2.0.0\")", "0")]
    [InlineData("semver.compare(\"1.0.0-rc.1\", \"1.0.0\")", "-1")]
    [InlineData("semver.compare(\"1.0.0-rc.10\", \"1.0.0-rc.9\")", "1")]
    [InlineData("semver.valid(\"1.2\")", "false")]
    public void Semver(string expression, string expected) => Assert.Equal(expected, Eval(expression));

    [Theory]
    [InlineData("Math.round(geo.distanceKm({lat: 41.6176, lon: 0.62}, {lat: 41.3874, lon: 2.1686}))", "131")]
    [InlineData("geo.pointInPolygon({lat: 1, lon: 1}, {type: \"Polygon\", coordinates: [[[0,0],[2,0],[2,2],[0,2],[0,0]]]})", "true")]
    [InlineData("geo.pointInPolygon({lat: 3, lon: 1}, {type: \"Polygon\", coordinates: [[[0,0],[2,0],[2,2],[0,2],[0,0]]]})", "false")]
    [InlineData("geo.pointInPolygon({lat: 1, lon: 1}, {type: \"Polygon\", coordinates: [[[0,0],[4,0],[4,4],[0,4],[0,0]], [[0.5,0.5],[1.5,0.5],[1.5,1.5],[0.5,1.5],[0.5,0.5]]]})", "false")]
    [InlineData("geo.pointInPolygon({lat: 11, lon: 11}, {type: \"MultiPolygon\", coordinates: [[[[0,0],[2,0],[2,2],[0,2],[0,0]]], [[[10,10],[12,10],[12,12],[10,12],[10,10]]]]})", "true")]
    public void Geo(string expression, string expected) => Assert.Equal(expected, Eval(expression));

    [Theory]
    [InlineData("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a}]}\n", "spec")]
    [InlineData("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: [{name: a}]}}}\n", "spec.template.spec")]
    [InlineData("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {template: {spec: {containers: [{name: a}]}}}\n", "spec.template.spec")]
    [InlineData("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: s}\nspec: {template: {spec: {containers: [{name: a}]}}}\n", "spec.template.spec")]
    [InlineData("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: s}\nspec: {template: {spec: {containers: [{name: a}]}}}\n", "spec.template.spec")]
    [InlineData("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {template: {spec: {containers: [{name: a}]}}}\n", "spec.template.spec")]
    [InlineData("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a}]}}}}}\n", "spec.jobTemplate.spec.template.spec")]
    [InlineData("apiVersion: example.com/v1\nkind: Rollout\nmetadata: {name: r}\nspec: {template: {spec: {containers: [{name: a}]}}}\n", "spec.template.spec")]
    [InlineData("apiVersion: akri.sh/v0\nkind: Configuration\nmetadata: {name: c}\nspec: {brokerSpec: {brokerPodSpec: {containers: [{name: a}]}}}\n", "spec.brokerSpec.brokerPodSpec")]
    public void PodSpecs_FindThePodSpecInEveryWorkloadKind(string yaml, string path) =>
        Assert.Equal($"[\"{path}\"]", Eval("podSpecs(object).map((p) => p.path)", yaml));

    [Fact]
    public void PodSpecs_OfAConfigMap_IsEmpty() =>
        Assert.Equal("[]", Eval("podSpecs(object)", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"));

    [Fact]
    public void Containers_IncludeInitAndEphemeralContainersWithTheirPaths()
    {
        const string Yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  initContainers: [{name: i}]\n  containers: [{name: a}, {name: b}]\n  ephemeralContainers: [{name: e}]\n";
        Assert.Equal(
            """["containers:a:spec.containers[0]","containers:b:spec.containers[1]","initContainers:i:spec.initContainers[0]","ephemeralContainers:e:spec.ephemeralContainers[0]"]""",
            Eval("containers(podSpecs(object)[0].spec, \"spec\").map((c) => `${c.type}:${c.container.name}:${c.path}`)", Yaml));
    }
}
