using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Policy.Checks;
using EdgeOps.Policy.Evaluation;
using EdgeOps.Policy.Loading;
using EdgeOps.Tests;

namespace EdgeOps.Policy.Tests.Checks;

public sealed class PolicyFleetCheckTests
{
    private const string PoliciesHeader = """
        apiVersion: edgeops.io/v1alpha1
        kind: Fleet
        metadata:
          name: test-fleet
        spec:
          policies:

        """;

    private static ValidationReport Validate(TempFleet fleet)
    {
        using var source = new DirectoryFleetSource(fleet.Root);
        return new FleetValidator().Validate(source, new ValidationOptions { Checks = [new PolicyFleetCheck()] });
    }

    private static TempFleet NewFleet(string policies)
    {
        var fleet = new TempFleet(withFleet: false);
        fleet.Write("fleet.yaml", PoliciesHeader + "    " + policies.Replace("\n", "\n    ", StringComparison.Ordinal) + "\n");
        return fleet;
    }

    private const string Deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: app
        spec:
          template:
            spec:
              containers:
                - name: main
                  image: ghcr.io/example/app:1.0
        """;

    [Fact]
    public void Violation_IntroducedByAnOverlay_PointsAtTheOverlayLine()
    {
        using var fleet = NewFleet("builtIn: [pod-security-baseline]");
        fleet.Cluster("robot", "tier: micro").Cluster("farm", "tier: far");
        fleet.Workload("app", """
            overlays:
              - name: debug-on-robots
                clusterSelector: {matchLabels: {tier: micro}}
                patches:
                  - target: {kind: Deployment}
                    json:
                      - op: add
                        path: /spec/template/spec/containers/0/securityContext
                        value: {privileged: true}
            """, Deployment);

        var report = Validate(fleet);

        var d = Assert.Single(report.Diagnostics);
        Assert.Equal((Codes.PolicyViolation, Severity.Error), (d.Code, d.Severity));
        Assert.Equal(new SourceLocation("workloads/app/workload.yaml", 15, 35), d.Location);
        Assert.Equal("pod-security-baseline/privileged", d.Rule);
        Assert.Equal(["robot"], d.Clusters);
        Assert.Equal("policies/pod-security-baseline.js", d.Related.Single().Path);
        Assert.StartsWith("pod-security-baseline/privileged: container \"main\" must not be privileged (Deployment.apps default/app)", d.Message, StringComparison.Ordinal);
        Assert.Equal(1, report.Rules.Single().Errors);
    }

    [Fact]
    public void Violation_InAManifest_PointsAtTheManifestLine()
    {
        using var fleet = NewFleet("builtIn: [resources]");
        fleet.Cluster("a");
        fleet.Workload("app", manifest: Deployment);

        var report = Validate(fleet);

        Assert.All(report.Diagnostics, d => Assert.Equal(new SourceLocation("workloads/app/manifest.yaml", 9, 11), d.Location));
        Assert.Equal(["resources/cpuLimit", "resources/cpuRequest", "resources/memoryLimit", "resources/memoryRequest"], report.Diagnostics.Select(d => d.Rule).Order());
    }

    [Fact]
    public void FleetPolicyFolder_IsLoaded_AndItsSyntaxErrorsPointIntoTheRepo()
    {
        using var fleet = NewFleet("paths: [policies]");
        fleet.Cluster("a");
        fleet.Workload("app", manifest: Deployment);
        fleet.Write("policies/broken.js", "export const policy = {\n  name: \"broken\",,\n};\n");
        fleet.Write("policies/named.js", """
            export const policy = { name: "named", severity: "warning", match: { kinds: ["Deployment"] } };
            export function validate(object) { return { message: "seen", path: "spec.template.spec.containers[0].image" }; }
            """);

        var report = Validate(fleet);

        Assert.Equal(["policies/broken.js:2:18: error EO6101", "workloads/app/manifest.yaml:10:18: warning EO6001"],
            report.Diagnostics.Select(d => $"{d.Location}: {(d.IsError ? "error" : "warning")} {d.Code}"));
    }

    [Fact]
    public void Settings_UnknownBuiltInAndParametersForDisabledPolicies_AreLocatedErrors()
    {
        using var fleet = NewFleet("builtIn: [pod-security-baselin]\nparameters:\n  resources: {}\nlimits:\n  maxStatements: 5");
        fleet.Cluster("a");

        var report = Validate(fleet);

        Assert.Equal(["fleet.yaml:7:15 EO6107", "fleet.yaml:9:7 EO6108", "fleet.yaml:11:22 EO3050"],
            report.Diagnostics.Select(d => $"{d.Location} {d.Code}"));
        Assert.Contains("pod-security-baseline", report.Diagnostics[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnforcementWarn_TurnsViolationsIntoWarnings()
    {
        using var fleet = NewFleet("enforcement: warn\nbuiltIn: [resources]");
        fleet.Cluster("a");
        fleet.Workload("app", manifest: Deployment);

        var report = Validate(fleet);

        Assert.True(report.Ok);
        Assert.Equal(4, report.WarningCount);
    }

    [Fact]
    public void CostBudget_ReportsTheEstimateAsAClusterFact()
    {
        using var fleet = NewFleet("builtIn: [cost-budget]");
        fleet.Cluster("a", spec: "capacity: {cpu: \"4\", memory: 8Gi}\ncost: {cpuHour: 0.01, memoryGiBHour: 0.002, monthlyBudget: 50, currency: EUR}");
        fleet.Workload("app", manifest: Deployment.Replace("image: ghcr.io/example/app:1.0", "image: ghcr.io/example/app:1.0\n          resources: {requests: {cpu: \"1\", memory: 2Gi}}", StringComparison.Ordinal));

        var report = Validate(fleet);

        Assert.True(report.Ok, string.Join("\n", report.Diagnostics));
        // (1 CPU x 0.01 + 2 GiB x 0.002) x 730 h = 10.22
        Assert.Equal("10.22 EUR", report.Clusters.Single().Facts["monthlyCost"]);
    }

    [Fact]
    public void DataResidency_GeofencedWorkloadOnAClusterThatMovedOutside_IsDenied()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("robot", spec: "location: {lat: 41.6, lon: 0.6}");
        fleet.Workload("fenced", "placement:\n  location:\n    geofence: {type: Polygon, coordinates: [[[0, 41], [1, 41], [1, 42], [0, 42], [0, 41]]]}");
        var load = FleetLoad.Load(fleet);
        var set = PolicyHarness.BuiltIn("data-residency");
        var state = new Renderer(load.Fleet).Render(load.Fleet.Clusters.Single()).State;
        using var engine = new PolicyEngine(set);
        var owners = new Dictionary<string, MappingNode> { ["Workload/fenced"] = PolicyContexts.Workload(load.Fleet.Workloads.Single()) };

        PolicyEvaluation At(GeoPoint location)
        {
            var cluster = load.Fleet.Clusters.Single() with { GeoLocation = location };
            return engine.Evaluate(new PolicyTarget("robot", PolicyContexts.Cluster(cluster), null, PolicyContexts.Subjects(load.Fleet, state), cluster.Location)
            {
                Workloads = PolicyContexts.Placed(state, owners.GetValueOrDefault),
            });
        }

        Assert.Empty(At(new GeoPoint(41.6, 0.6)).Violations);
        var moved = Assert.Single(At(new GeoPoint(46.0, 11.1)).Violations);
        Assert.Equal("geofence", moved.Control);
        Assert.Contains("outside the fence", moved.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClusterLevelPolicy_SeesEachClustersOwnPlacedWorkloads_WhenClustersShareAPlacementSet()
    {
        using var fleet = NewFleet("paths: [policies]");
        fleet.Cluster("robot-1", "tier: micro").Cluster("robot-2", "tier: micro").Cluster("farm", "tier: far");
        fleet.Workload("everywhere", manifest: Deployment);
        fleet.Workload("robots-only", "placement:\n  clusterSelector: {matchLabels: {tier: micro}}", Deployment.Replace("name: app", "name: robot-app", StringComparison.Ordinal));
        fleet.Write("policies/placed.js", """
            export const policy = { name: "placed", severity: "warning" };
            export function validateCluster(objects, ctx) {
              return `${ctx.cluster.name} runs ${Object.keys(ctx.workloads).join("+")} (${objects.length} objects)`;
            }
            """);

        var report = Validate(fleet);

        Assert.Equal(
            ["farm runs everywhere (1 objects)", "robot-1 runs everywhere+robots-only (2 objects)", "robot-2 runs everywhere+robots-only (2 objects)"],
            report.Diagnostics.Select(d => d.Message[(d.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]).Order(StringComparer.Ordinal));
    }
}
