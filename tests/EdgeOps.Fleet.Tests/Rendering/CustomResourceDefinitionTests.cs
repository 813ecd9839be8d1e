using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Rendering;

/// <summary>A custom resource whose kind nothing defines is reported where it is written (EO5006).</summary>
public sealed class CustomResourceDefinitionTests
{
    private const string Zone = """
        apiVersion: orchard.example.io/v1
        kind: Zone
        metadata:
          name: north
        """;

    private const string ZoneCrd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: zones.orchard.example.io
        spec:
          group: orchard.example.io
          names: {kind: Zone, plural: zones}
          scope: Namespaced
          versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
        """;

    [Fact]
    public void CustomResource_WithoutItsCrd_IsWarnedAtTheObject()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("zones", manifest: Zone);

        var warning = Assert.Single(TestFleets.Render(fleet, "a").Diagnostics, d => d.Code == Codes.KindWithoutDefinition);

        Assert.Equal(Severity.Warning, warning.Severity);
        Assert.Equal("workloads/zones/manifest.yaml:1:1", warning.Location.ToString());
        Assert.Contains("orchard.example.io/v1 Zone is defined by no CustomResourceDefinition", warning.Message, StringComparison.Ordinal);
        Assert.Equal(["a"], warning.Clusters);
    }

    [Fact]
    public void CustomResource_WithItsCrdInTheClustersState_OrItsGroupDeclared_IsFine()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("with-crd", "tier: far");
        fleet.Cluster("declared", "tier: near", "apis: [orchard.example.io]");
        fleet.Cluster("version", "tier: micro", "apis: [orchard.example.io/v1]");
        fleet.Workload("zones", manifest: Zone);
        fleet.Workload("crds", "placement: {clusterSelector: {matchLabels: {tier: far}}}", ZoneCrd);

        foreach (var cluster in new[] { "with-crd", "declared", "version" })
        {
            Assert.DoesNotContain(TestFleets.Render(fleet, cluster).Diagnostics, d => d.Code == Codes.KindWithoutDefinition);
        }
    }

    [Fact]
    public void BuiltInKinds_NeedNoDeclaration()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("app", manifest: "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n");

        Assert.DoesNotContain(TestFleets.Render(fleet, "a").Diagnostics, d => d.Code == Codes.KindWithoutDefinition);
    }
}
