using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Examples;

/// <summary>The example fleet is documentation people copy: it must stay valid and cover what it claims.</summary>
public sealed class ExampleFleetTests
{
    private static ValidationReport Validate()
    {
        using var source = new DirectoryFleetSource(RepoPaths.ExampleFleet);
        return new FleetValidator().Validate(source);
    }

    [Fact]
    public void ExampleFleet_Validates_WithoutErrorsOrWarnings()
    {
        var report = Validate();
        Assert.Empty(report.Diagnostics);
    }

    [Fact]
    public void ExampleFleet_CoversTheFleetShapeItDocuments()
    {
        var report = Validate();
        var fleet = report.Fleet;

        Assert.True(fleet.Clusters.Length >= 12);
        Assert.True(fleet.Clusters.Select(c => c.Labels["country"]).Distinct().Count() >= 3);
        Assert.Equal(["far", "micro", "near"], fleet.Clusters.Select(c => c.Labels["tier"]).Distinct().Order());
        Assert.True(fleet.Workloads.Length >= 6);
        Assert.Contains(fleet.Workloads, w => w.Placement.Geofence is not null);
        Assert.Equal(["onvif", "udev"], fleet.DeviceConfigs.Select(d => d.Discovery.Handler.Value).Order());
        Assert.Single(fleet.UpgradePlans);
        var kinds = fleet.Workloads.SelectMany(w => w.Manifests).Select(m => m.Body.GetString("kind")).ToHashSet();
        Assert.Superset(new HashSet<string?> { "Deployment", "DaemonSet", "Service", "ConfigMap", "Job", "CustomResourceDefinition", "HarvestZone" }, kinds);
    }

    [Fact]
    public void ExampleFleet_GeofencedWorkload_StaysInsideTheFence()
    {
        var report = Validate();
        var renderer = new Fleet.Rendering.Renderer(report.Fleet);
        var fencedWorkloads = report.Fleet.Workloads.Where(w => w.Placement.Geofence is not null).ToList();
        Assert.Equal(2, fencedWorkloads.Count);
        foreach (var fenced in fencedWorkloads)
        {
            foreach (var cluster in report.Fleet.Clusters)
            {
                var placed = renderer.Render(cluster).State.Workloads.Contains(fenced.Name);
                var inside = cluster.GeoLocation is { } at && Fleet.Model.GeoMath.Contains(fenced.Placement.Geofence!, at);
                Assert.False(placed && !inside, $"{fenced.Name} placed on {cluster.Name} outside its geofence");
            }
        }

        Assert.Contains(report.Fleet.Clusters, c => c.Labels["country"] == "NZ" && c.Labels["tier"] != "micro");
    }
}
