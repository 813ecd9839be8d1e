using System.Collections.Immutable;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Rendering;

/// <summary>Placement by a live position with margin and dwell, as a pure function of the previous decision, the position and an injected time.</summary>
public sealed class LocationHysteresisTests
{
    // A square fence around (40, -3): 0.01 degrees of latitude is about 1,112 m.
    private static readonly GeoFence Square = new("Polygon",
        [new GeoPolygon([[new(39.99, -3.01), new(39.99, -2.99), new(40.01, -2.99), new(40.01, -3.01), new(39.99, -3.01)]])], default);

    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static Placement Fenced(double margin = 50, int dwellSeconds = 60) =>
        new(null, null, Square, [], default, margin, TimeSpan.FromSeconds(dwellSeconds));

    /// <summary>A point on the fence's north edge shifted by <paramref name="metres"/> (positive: outside).</summary>
    private static GeoPoint North(double metres) => new(40.01 + (metres / 111_195.0), -3.0);

    private static (AreaDecision Final, int Flips) Walk(Placement placement, IEnumerable<(int Second, GeoPoint At)> track)
    {
        AreaDecision? decision = null;
        var flips = 0;
        foreach (var (second, at) in track)
        {
            var next = LocationHysteresis.Step(decision, placement, at, T0.AddSeconds(second));
            flips += decision is not null && decision.Inside != next.Inside ? 1 : 0;
            decision = next;
        }

        return (decision!, flips);
    }

    [Fact]
    public void SignedDistance_IsMetresInsideOrOutsideTheEdge()
    {
        Assert.InRange(GeoMath.SignedDistanceMetres(Square, North(100)), -101, -99);
        Assert.InRange(GeoMath.SignedDistanceMetres(Square, North(-30)), 29, 31);
        var circle = new GeoCircle(new GeoPoint(40, -3), 1, default);
        Assert.InRange(GeoMath.SignedDistanceMetres(circle, new GeoPoint(40 + (1200 / 111_195.0), -3)), -201, -199);
    }

    [Fact]
    public void ZigZagAlongTheEdge_WithinTheMargin_NeverMigrates()
    {
        var track = Enumerable.Range(0, 600).Select(s => (s, North(s % 20 < 10 ? -30 : 30)));

        var (final, flips) = Walk(Fenced(), track);

        Assert.Equal(0, flips);
        Assert.True(final.Inside);
    }

    [Fact]
    public void ZigZagPastTheMargin_ButNeverForTheDwell_NeverMigrates()
    {
        // 40 s outside by 200 m, 10 s back inside, again and again: the dwell of 60 s is never reached.
        var track = Enumerable.Range(0, 600).Select(s => (s, North(s % 50 < 40 ? 200 : -10)));

        Assert.Equal(0, Walk(Fenced(), track).Flips);
    }

    [Fact]
    public void SteadyCrossing_MigratesExactlyOnce_AfterTheDwell()
    {
        var track = Enumerable.Range(0, 300).Select(s => (s, North(-500 + (s * 5)))).ToList();
        var placement = Fenced();
        AreaDecision? decision = null;
        DateTimeOffset? left = null;
        var leftMargin = T0.AddSeconds(track.First(t => GeoMath.SignedDistanceMetres(Square, t.Item2) < -placement.Margin).s);
        foreach (var (second, at) in track)
        {
            var next = LocationHysteresis.Step(decision, placement, at, T0.AddSeconds(second));
            if (decision is { Inside: true } && !next.Inside)
            {
                Assert.Null(left);
                left = T0.AddSeconds(second);
            }

            decision = next;
        }

        Assert.Equal(leftMargin + placement.Dwell, left);
    }

    [Fact]
    public void ReEntering_NeedsToBeInsideByTheMarginForTheDwell()
    {
        var placement = Fenced(margin: 100, dwellSeconds: 30);
        var outside = new AreaDecision(false);

        var atEdge = LocationHysteresis.Step(outside, placement, North(-50), T0);
        var deep = Enumerable.Range(0, 31).Aggregate(atEdge, (d, s) => LocationHysteresis.Step(d, placement, North(-150), T0.AddSeconds(s)));

        Assert.False(atEdge.Inside);
        Assert.Null(atEdge.CandidateSince);
        Assert.True(deep.Inside);
        Assert.Equal(T0.AddSeconds(30), deep.ChangedAt);
    }

    [Fact]
    public void Decisions_OverrideTheGeometryForTheirOwner()
    {
        var cluster = new Cluster(new ObjectMeta(new Located<string>("robot", default), ImmutableSortedDictionary<string, string>.Empty, default), default,
            new GeoPoint(40, -3), null, null, null, [], null, EdgeOps.Fleet.Yaml.MappingNode.Empty);
        var facts = new ClusterFacts(new GeoPoint(40, -3), LocationDecisions: ImmutableSortedDictionary<string, bool>.Empty.Add("Workload/pii", false));

        Assert.False(PlacementEvaluator.Matches(Fenced(), cluster, facts, "Workload/pii"));
        Assert.True(PlacementEvaluator.Matches(Fenced(), cluster, facts, "Workload/other"));
    }

    [Fact]
    public void Load_MarginAndDwell_AreReadAndANegativeMarginIsAnError()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("edge-1");
        fleet.Workload("pii", "placement:\n  location:\n    within: {lat: 40, lon: -3, radiusKm: 5}\n    margin: 120\n    dwell: 3m");
        fleet.Workload("bad", "placement:\n  location:\n    within: {lat: 40, lon: -3, radiusKm: 5}\n    margin: -1");

        var result = TestFleets.Load(fleet);

        var pii = result.Fleet.Workloads.Single(w => w.Name == "pii").Placement;
        Assert.Equal((120.0, TimeSpan.FromMinutes(3)), (pii.Margin, pii.Dwell));
        Assert.Contains(result.Diagnostics, d => d.Code == "EO3050" && d.Message.Contains("margin (metres) must not be negative", StringComparison.Ordinal));
    }
}
