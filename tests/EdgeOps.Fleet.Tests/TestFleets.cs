using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests;

internal static class TestFleets
{
    public static LoadResult Load(TempFleet fleet, LoaderOptions? options = null)
    {
        using var source = new DirectoryFleetSource(fleet.Root);
        return new FleetLoader(options).Load(source);
    }

    /// <summary>Loads a fleet that must be valid and renders one cluster.</summary>
    public static RenderResult Render(TempFleet fleet, string cluster)
    {
        var load = Load(fleet);
        Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));
        return new Renderer(load.Fleet).Render(load.Fleet.FindCluster(cluster) ?? throw new InvalidOperationException($"no cluster {cluster}"));
    }

    /// <summary>Parses one YAML document that must be valid.</summary>
    public static Fleet.Yaml.Node ParseYaml(string text)
    {
        var bag = new Fleet.Diagnostics.DiagnosticBag();
        var node = Fleet.Yaml.YamlReader.ReadDocuments("t.yaml", text, bag).Single()!;
        Assert.Empty(bag.ToSortedList());
        return node;
    }

    public static string Codes(LoadResult result) => string.Join(",", result.Diagnostics.Select(d => d.Code));
}
