using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Loading;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Sources;

public sealed class FleetFilesTests
{
    [Fact]
    public void Load_SymlinkOutsideTheRepo_IsAnErrorAtTheLink()
    {
        using var outside = new TempFleet(withFleet: false);
        outside.Write("secret.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: stolen\n");
        using var fleet = new TempFleet();
        fleet.Symlink("clusters/evil.yaml", Path.Combine(outside.Root, "secret.yaml"));
        fleet.Symlink("clusters/relative.yaml", "../../" + Path.GetFileName(outside.Root) + "/secret.yaml");

        var result = TestFleets.Load(fleet);

        var errors = result.Diagnostics.Where(d => d.Code == Codes.SymlinkOutsideRepo).ToList();
        Assert.Equal(["clusters/evil.yaml", "clusters/relative.yaml"], errors.Select(e => e.Location.Path));
        Assert.Empty(result.Fleet.Clusters);
    }

    [Fact]
    public void Load_SymlinkInsideTheRepo_IsFollowed()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Write("workloads/app/workload.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Workload\nmetadata:\n  name: app\nspec:\n  manifests: [linked.yaml]\n");
        fleet.Write("shared/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n");
        fleet.Symlink("workloads/app/linked.yaml", "../../shared/cm.yaml");

        var result = TestFleets.Load(fleet);

        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        Assert.Equal("shared", result.Fleet.Workloads.Single().Manifests.Single().Body["metadata"] is Fleet.Yaml.MappingNode m ? m.GetString("name") : null);
    }

    [Fact]
    public void Load_FileOverTheSizeLimit_IsRefusedWithoutReadingIt()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a", spec: "values:\n  blob: \"" + new string('x', 5000) + "\"");

        var result = TestFleets.Load(fleet, new LoaderOptions { MaxFileBytes = 4096 });

        var d = Assert.Single(result.Diagnostics, d => d.Code == Codes.FileTooLarge);
        Assert.Equal("clusters/a.yaml", d.Location.Path);
        Assert.Contains("4,096", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_InvalidUtf8_PointsAtTheBadByte()
    {
        using var fleet = new TempFleet();
        fleet.WriteBytes("clusters/a.yaml", [.. "kind: Cluster\nname: caf"u8, 0xE9, .. "\n"u8]);

        var d = Assert.Single(TestFleets.Load(fleet).Diagnostics);
        Assert.Equal(Codes.InvalidUtf8, d.Code);
        Assert.Equal(new SourceLocation("clusters/a.yaml", 2, 10), d.Location);
    }

    [Fact]
    public void Load_Utf8ByteOrderMark_IsAccepted()
    {
        using var fleet = new TempFleet();
        fleet.WriteBytes("clusters/a.yaml", [0xEF, 0xBB, 0xBF, .. "apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: a\n"u8]);

        var result = TestFleets.Load(fleet);

        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        Assert.Equal("a", result.Fleet.Clusters.Single().Name);
    }

    [Fact]
    public void Load_BinaryFileWithYamlExtension_IsNotParsed()
    {
        using var fleet = new TempFleet();
        fleet.WriteBytes("clusters/image.yaml", [0x89, 0x50, 0x4E, 0x47, 0x00, 0x00]);

        Assert.Contains(TestFleets.Load(fleet).Diagnostics, d => d.Code == Codes.InvalidUtf8);
    }
}
