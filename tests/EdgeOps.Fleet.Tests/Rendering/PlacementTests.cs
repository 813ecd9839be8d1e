using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;

namespace EdgeOps.Fleet.Tests.Rendering;

public sealed class PlacementTests
{
    private static readonly SourceLocation Nowhere = SourceLocation.None;

    private static Cluster Cluster(string labels = "", GeoPoint? at = null, params (string Class, int Count)[] devices)
    {
        var map = labels.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('='))
            .ToImmutableSortedDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        return new Cluster(new ObjectMeta(new Located<string>("c", Nowhere), map, Nowhere), Nowhere, at, null, null, null,
            [.. devices.Select(d => new DeviceCount(new Located<string>(d.Class, Nowhere), d.Count))], null, Fleet.Yaml.MappingNode.Empty);
    }

    private static LabelSelector Selector(string matchLabels = "", params SelectorRequirement[] expressions) =>
        new(matchLabels.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=')).ToImmutableSortedDictionary(p => p[0], p => p[1], StringComparer.Ordinal),
            [.. expressions], Nowhere);

    private static Placement By(LabelSelector? selector = null, GeoCircle? within = null, GeoFence? fence = null, params (string, int)[] devices) =>
        new(selector, within, fence, [.. devices.Select(d => new DeviceCount(new Located<string>(d.Item1, Nowhere), d.Item2))], Nowhere);

    [Theory]
    [InlineData("tier=far", "tier=far,country=ES", true)]
    [InlineData("tier=far", "tier=near", false)]
    [InlineData("tier=far", "", false)]
    [InlineData("", "anything=goes", true)]
    public void Matches_MatchLabels(string selector, string labels, bool expected) =>
        Assert.Equal(expected, PlacementEvaluator.Matches(By(Selector(selector)), Cluster(labels)));

    [Theory]
    [InlineData(SelectorOperator.In, "tier=far", true)]
    [InlineData(SelectorOperator.In, "tier=micro", false)]
    [InlineData(SelectorOperator.In, "", false)]
    [InlineData(SelectorOperator.NotIn, "tier=far", false)]
    [InlineData(SelectorOperator.NotIn, "tier=micro", true)]
    [InlineData(SelectorOperator.NotIn, "", true)]
    [InlineData(SelectorOperator.Exists, "tier=x", true)]
    [InlineData(SelectorOperator.Exists, "", false)]
    [InlineData(SelectorOperator.DoesNotExist, "tier=x", false)]
    [InlineData(SelectorOperator.DoesNotExist, "", true)]
    public void Matches_MatchExpressions(SelectorOperator op, string labels, bool expected)
    {
        ImmutableArray<string> values = op is SelectorOperator.In or SelectorOperator.NotIn ? ["far", "near"] : [];
        var selector = Selector(string.Empty, new SelectorRequirement("tier", op, values));
        Assert.Equal(expected, PlacementEvaluator.Matches(By(selector), Cluster(labels)));
    }

    [Fact]
    public void Matches_Within_UsesGreatCircleDistance()
    {
        var lleida = new GeoPoint(41.6176, 0.6200);
        var within40 = new GeoCircle(lleida, 40, Nowhere);
        Assert.True(PlacementEvaluator.Matches(By(within: within40), Cluster(at: new GeoPoint(41.6290, 0.8890)))); // ~22 km
        Assert.False(PlacementEvaluator.Matches(By(within: within40), Cluster(at: new GeoPoint(41.3874, 2.1686)))); // Barcelona ~130 km
        Assert.False(PlacementEvaluator.Matches(By(within: within40), Cluster()));
    }

    [Fact]
    public void Matches_Within_WorksAcrossTheAntimeridian()
    {
        var circle = new GeoCircle(new GeoPoint(-17.7, 179.9), 50, Nowhere);
        Assert.True(PlacementEvaluator.Matches(By(within: circle), Cluster(at: new GeoPoint(-17.7, -179.9))));
    }

    [Fact]
    public void Matches_PolygonWithHole_ExcludesTheHole()
    {
        ImmutableArray<GeoPoint> outer = [new(0, 0), new(0, 10), new(10, 10), new(10, 0), new(0, 0)];
        ImmutableArray<GeoPoint> hole = [new(4, 4), new(4, 6), new(6, 6), new(6, 4), new(4, 4)];
        var fence = new GeoFence("Polygon", [new GeoPolygon([outer, hole])], Nowhere);

        Assert.True(PlacementEvaluator.Matches(By(fence: fence), Cluster(at: new GeoPoint(2, 2))));
        Assert.False(PlacementEvaluator.Matches(By(fence: fence), Cluster(at: new GeoPoint(5, 5))));
        Assert.False(PlacementEvaluator.Matches(By(fence: fence), Cluster(at: new GeoPoint(12, 5))));
        Assert.True(PlacementEvaluator.Matches(By(fence: fence), Cluster(at: new GeoPoint(0, 5)))); // on the edge
    }

    [Fact]
    public void Matches_MultiPolygon_AcceptsAnyMember()
    {
        ImmutableArray<GeoPoint> a = [new(0, 0), new(0, 1), new(1, 1), new(1, 0), new(0, 0)];
        ImmutableArray<GeoPoint> b = [new(10, 10), new(10, 11), new(11, 11), new(11, 10), new(10, 10)];
        var fence = new GeoFence("MultiPolygon", [new GeoPolygon([a]), new GeoPolygon([b])], Nowhere);

        Assert.True(PlacementEvaluator.Matches(By(fence: fence), Cluster(at: new GeoPoint(10.5, 10.5))));
        Assert.False(PlacementEvaluator.Matches(By(fence: fence), Cluster(at: new GeoPoint(5, 5))));
    }

    [Fact]
    public void Matches_RequiredDevices_NeedsEnoughOfEachClass()
    {
        var placement = By(devices: ("usb-camera", 2));
        Assert.True(PlacementEvaluator.Matches(placement, Cluster(devices: ("usb-camera", 2))));
        Assert.False(PlacementEvaluator.Matches(placement, Cluster(devices: ("usb-camera", 1))));
        Assert.False(PlacementEvaluator.Matches(placement, Cluster(devices: ("lidar", 5))));
    }

    [Fact]
    public void Matches_LiveFacts_OverrideTheStaticOnes()
    {
        var near = new GeoCircle(new GeoPoint(41.6, 0.6), 10, Nowhere);
        var cluster = Cluster(at: new GeoPoint(41.6, 0.6), devices: ("usb-camera", 1));

        Assert.False(PlacementEvaluator.Matches(By(within: near), cluster, new ClusterFacts(Location: new GeoPoint(46.0, 11.1))));
        Assert.False(PlacementEvaluator.Matches(By(devices: ("usb-camera", 1)), cluster,
            new ClusterFacts(Devices: ImmutableSortedDictionary<string, int>.Empty)));
    }
}
