using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Loading;

public sealed class FleetLoaderTests
{
    [Fact]
    public void Load_KindsAreFoundByKindNotByFolder()
    {
        using var fleet = new TempFleet(withFleet: false);
        fleet.Write("everything.yaml", TempFleet.FleetYaml + "---\napiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: a\n");

        var result = TestFleets.Load(fleet);

        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        Assert.Equal("test-fleet", result.Fleet.Name);
        Assert.Equal("a", result.Fleet.Clusters.Single().Name);
    }

    [Fact]
    public void Load_ManifestFolder_TakesYamlAndJsonFilesRecursivelyInNameOrder()
    {
        using var fleet = new TempFleet();
        fleet.Write("workloads/w/workload.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Workload\nmetadata:\n  name: w\nspec:\n  manifests: [m]\n");
        fleet.Write("workloads/w/m/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n");
        fleet.Write("workloads/w/m/a/x.json", "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"x\"}}");
        fleet.Write("workloads/w/m/notes.txt", "ignored");

        var result = TestFleets.Load(fleet);

        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        Assert.Equal(["workloads/w/m/a/x.json", "workloads/w/m/b.yaml"], result.Fleet.Workloads.Single().Manifests.Select(m => m.File));
    }

    [Fact]
    public void Load_EveryProblemInOneRun_IsReportedTogether()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a", spec: "location: {lat: 95, lon: 0}");
        fleet.Cluster("b", spec: "capacity: {cpu: many}");
        fleet.Workload("w", "dependsOn: [nope]");

        var result = TestFleets.Load(fleet);

        Assert.Equal("EO3030,EO3040,EO3002", TestFleets.Codes(result));
    }

    [Fact]
    public void Load_ValidCluster_KeepsEveryFactAndWhereItWasWritten()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("robot-1", "tier: micro\ncountry: ES", """
            location: {lat: 41.5, lon: 0.5}
            capacity: {cpu: "4", memory: 4Gi}
            cost: {cpuHour: 0.01, monthlyBudget: 25}
            network: {metered: true, bandwidthKbps: 2048}
            maintenanceWindow: {schedule: "30 21 * * *", duration: 6h, timeZone: Europe/Madrid}
            """);

        var result = TestFleets.Load(fleet);

        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        var cluster = result.Fleet.Clusters.Single();
        Assert.Equal(new GeoPoint(41.5, 0.5), cluster.GeoLocation);
        Assert.Equal(4m, cluster.Capacity!.Cpu!.Value.Value);
        Assert.Equal(4m * 1024 * 1024 * 1024, cluster.Capacity.Memory!.Value.Value);
        Assert.Equal(25, cluster.Cost!.MonthlyBudget);
        Assert.True(cluster.Network!.Metered);
        Assert.Equal(TimeSpan.FromHours(6), cluster.MaintenanceWindow!.Duration);
        Assert.Equal("micro", cluster.Labels["tier"]);
        Assert.Equal(new SourceLocation("clusters/robot-1.yaml", 4, 9), cluster.Metadata.Name.Location);
        Assert.Equal(13, cluster.MaintenanceWindow.Schedule.Location.Line);
    }

    [Fact]
    public void Load_UnreferencedYaml_IsAWarningNotAnError()
    {
        using var fleet = new TempFleet();
        fleet.Write("notes/todo.yaml", "items: [a, b]\n");
        fleet.Write("policies/tests/case.yaml", "apiVersion: v1\nkind: Pod\n");

        var result = TestFleets.Load(fleet);

        var d = Assert.Single(result.Diagnostics);
        Assert.Equal((Severity.Warning, Codes.UnreferencedFile, "notes/todo.yaml"), (d.Severity, d.Code, d.Location.Path));
    }

    [Fact]
    public void Load_ManifestPathNamingAFleetFile_IsAnError()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("w");
        fleet.Write("workloads/w/workload.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Workload\nmetadata:\n  name: w\nspec:\n  manifests: [../../clusters/a.yaml]\n");

        Assert.Contains(TestFleets.Load(fleet).Diagnostics, d => d.Code == Codes.ManifestNotAMapping && d.Message.Contains("EdgeOps objects", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_TwoDeviceConfigsForOneClass_IsAnError()
    {
        using var fleet = new TempFleet();
        const string Config = "apiVersion: edgeops.io/v1alpha1\nkind: DeviceConfig\nmetadata:\n  name: {0}\nspec:\n  deviceClass: cam\n  discovery:\n    handler: onvif\n";
        fleet.Write("devices/a.yaml", string.Format(System.Globalization.CultureInfo.InvariantCulture, Config, "a"));
        fleet.Write("devices/b.yaml", string.Format(System.Globalization.CultureInfo.InvariantCulture, Config, "b"));

        var d = Assert.Single(TestFleets.Load(fleet).Diagnostics);
        Assert.Equal((Codes.DuplicateName, "devices/b.yaml"), (d.Code, d.Location.Path));
    }
}
