using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Location;
using EdgeOps.Reconciler.Tests.Infrastructure;

namespace EdgeOps.Reconciler.Tests.Location;

/// <summary>
/// The agent's location tracker following a real gpsd (fed by gpsfake from NMEA tracks of a robot near a
/// geofence's north edge): a zig-zag along the edge never migrates, a steady crossing migrates once after the
/// dwell, and a lost fix keeps the last decision and says so.
/// </summary>
public sealed class GpsdLiveLocationTests : IDisposable
{
    private const string Key = "Workload/personal-data";
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly GeoFence Square = new("Polygon",
        [new GeoPolygon([[new(39.99, -3.01), new(39.99, -2.99), new(40.01, -2.99), new(40.01, -3.01), new(39.99, -3.01)]])], default);

    private static readonly Placement Area = new(null, null, Square, [], default, MarginMetres: 50, DwellTime: TimeSpan.FromSeconds(60));
    private readonly string _state = Directory.CreateTempSubdirectory("edgeops-gpsd-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    /// <summary>A point <paramref name="metres"/> north of the fence's north edge (negative: inside).</summary>
    private static TrackPoint North(int second, double metres, bool fix = true) => new(T0.AddSeconds(second), 40.01 + (metres / 111_195.0), -3.0, fix);

    /// <summary>
    /// 60 s standing well inside first: gpsd identifies the NMEA device while gpsfake already writes, so the first
    /// reports of a log are never seen; what they would have said changes nothing.
    /// </summary>
    private static IEnumerable<TrackPoint> Prelude() => Enumerable.Range(0, 60).Select(s => North(s, -300));

    private async Task<(LocationTracker Tracker, List<DateTimeOffset> Flips)> FollowAsync(IEnumerable<TrackPoint> track)
    {
        var tracker = new LocationTracker(_state);
        tracker.SetAreas([(Key, Area)]);
        var flips = new List<DateTimeOffset>();
        tracker.PlacementChanged += () => flips.Add(tracker.State.FixTime!.Value);
        var end = track.Last().Time;
        var last = DateTimeOffset.MinValue;
        using var gps = new GpsFake(track);
        await gps.ListeningAsync();
        await using (new GpsdWatcher(gps.Address, sample =>
        {
            last = sample.Time > last && sample.Time <= end ? sample.Time : last;
            tracker.Observe(sample);
        }, TimeProvider.System))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (last < end && DateTime.UtcNow < deadline && !gps.HasExited)
            {
                await Task.Delay(100);
            }

            Assert.True(last == end, $"gpsd reported up to {last:O}, the track ends at {end:O}");
        }

        return (tracker, flips);
    }

    [Fact]
    public async Task Gpsd_ZigZagAlongTheFence_NeverMigrates()
    {
        var track = Prelude().Concat(Enumerable.Range(60, 200).Select(s => North(s, s % 30 < 15 ? 35 : -35))).ToList();

        var (tracker, flips) = await FollowAsync(track);

        Assert.Empty(flips);
        Assert.True(tracker.State.Decisions[Key].Inside);
        Assert.Equal(T0.AddSeconds(259), tracker.State.FixTime);
    }

    [Fact]
    public async Task Gpsd_SteadyCrossing_MigratesExactlyOnceAfterTheDwell()
    {
        // From 300 m inside to 300 m outside at 2 m/s: outside by the 50 m margin from second 60 + 176 on.
        var track = Prelude().Concat(Enumerable.Range(0, 301).Select(s => North(60 + s, -300 + (2 * s)))).ToList();
        var outsideByMargin = track.First(p => GeoMath.SignedDistanceMetres(Square, new GeoPoint(p.Lat, p.Lon)) < -50).Time;

        var (tracker, flips) = await FollowAsync(track);

        Assert.Equal(outsideByMargin + Area.Dwell, Assert.Single(flips));
        Assert.False(tracker.State.Decisions[Key].Inside);
    }

    [Fact]
    public async Task Gpsd_FixLostMidTrack_KeepsTheDecisionAndSaysSo()
    {
        // Inside, then two minutes without a fix (the robot drives out meanwhile), then the fix returns outside.
        var lost = Enumerable.Range(60, 120).Select(s => North(s, 400, fix: false));
        var (tracker, flips) = await FollowAsync(Prelude().Concat(lost));

        Assert.Empty(flips);
        Assert.True(tracker.State.Decisions[Key].Inside);
        var status = tracker.Status(decimals: 3);
        Assert.NotNull(tracker.State.FixLostSince);
        Assert.Contains("no fix since", status.Note, StringComparison.Ordinal);
        Assert.Equal(40.007, status.Lat!.Value, 9); // 300 m inside the north edge at 40.01, rounded to 3 decimals
        Assert.Equal(-3.0, status.Lon!.Value, 9);

        // The fix returns outside (a second replay: the first reports are lost again, so the dwell starts late).
        var back = Enumerable.Range(180, 130).Select(s => North(s, 400)).ToList();
        var (again, flipsAfter) = await FollowAsync(back);

        var flip = Assert.Single(flipsAfter);
        Assert.InRange(flip, T0.AddSeconds(240), T0.AddSeconds(309));
        Assert.False(again.State.Decisions[Key].Inside);
        Assert.Null(again.State.FixLostSince);
    }
}
