using EdgeOps.Reconciler.Location;

namespace EdgeOps.Reconciler.Tests.Location;

/// <summary>Reading positions: gpsd's JSON reports (lines recorded from gpsd 3.22) and the node annotation's "lat,lon".</summary>
public sealed class LiveLocationSourceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void GpsdReport_WithAFix_IsAPositionAtTheFixTime()
    {
        var sample = GpsdWatcher.Parse("""{"class":"TPV","device":"/dev/pts/1","mode":3,"time":"2026-11-29T12:00:24.000Z","ept":0.005,"lat":40.002400000,"lon":-3.000000000,"altHAE":592.3000}""", Now.AddHours(1))!;

        Assert.Equal((40.0024, -3.0), (sample.Position!.Value.Lat, sample.Position.Value.Lon));
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 12, 0, 24, TimeSpan.Zero), sample.Time);
        Assert.Equal("gpsd /dev/pts/1", sample.Source);
    }

    [Fact]
    public void GpsdReport_WithoutAFix_IsNoPosition()
    {
        var sample = GpsdWatcher.Parse("""{"class":"TPV","device":"/dev/pts/1","mode":1,"time":"2026-11-29T12:01:00.000Z"}""", Now)!;

        Assert.Null(sample.Position);
    }

    [Theory]
    [InlineData("""{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}""")]
    [InlineData("""{"class":"SKY","device":"/dev/pts/1","nSat":8}""")]
    [InlineData("""{"class":"TPV","device":"/dev/pts/1","mode":3,"lat":40.0,"lon":-3.0}""")]
    [InlineData("not json at all")]
    [InlineData("""{"class":5,"mode":3,"time":"2026-11-29T12:00:24.000Z","lat":40.0,"lon":-3.0}""")]
    [InlineData("""{"class":["TPV"]}""")]
    [InlineData("""{"class":"TPV","mode":3,"time":12,"lat":40.0,"lon":-3.0}""")]
    [InlineData("100")]
    [InlineData("[]")]
    public void GpsdReport_OtherThanATimedTpv_IsIgnored(string line) => Assert.Null(GpsdWatcher.Parse(line, Now));

    [Theory]
    [InlineData("""{"class":"TPV","mode":2.5,"time":"2026-11-29T12:00:24.000Z","lat":40.0,"lon":-3.0}""")]
    [InlineData("""{"class":"TPV","mode":1e12,"time":"2026-11-29T12:00:24.000Z","lat":40.0,"lon":-3.0}""")]
    [InlineData("""{"class":"TPV","mode":3,"time":"2026-11-29T12:00:24.000Z","lat":400.0,"lon":-3.0}""")]
    [InlineData("""{"class":"TPV","mode":3,"time":"2026-11-29T12:00:24.000Z","lat":40.0,"lon":-181}""")]
    [InlineData("""{"class":"TPV","mode":3,"time":"2026-11-29T12:00:24.000Z","lat":"40.0","lon":-3.0}""")]
    [InlineData("""{"class":"TPV","mode":3,"time":"2026-11-29T12:00:24.000Z","lat":1e400,"lon":-3.0}""")]
    public void GpsdReport_WhoseFixIsNotAPlaceOnTheGlobe_IsNoPosition(string line)
    {
        var sample = GpsdWatcher.Parse(line, Now)!;

        Assert.Null(sample.Position);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 12, 0, 24, TimeSpan.Zero), sample.Time);
    }

    [Fact]
    public void GpsdReport_WithADeviceThatIsNotAName_IsStillAPosition()
    {
        var sample = GpsdWatcher.Parse("""{"class":"TPV","device":7,"mode":3,"time":"2026-11-29T12:00:24.000Z","lat":40.0,"lon":-3.0}""", Now)!;

        Assert.Equal(("gpsd", 40.0), (sample.Source, sample.Position!.Value.Lat));
    }

    [Theory]
    [InlineData("40.4168,-3.7038", 40.4168, -3.7038)]
    [InlineData(" -41.29 , 174.78 ", -41.29, 174.78)]
    public void NodeAnnotation_LatLon_IsParsed(string text, double lat, double lon) =>
        Assert.Equal(new Fleet.Model.GeoPoint(lat, lon), NodeLocation.Parse(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("40.4")]
    [InlineData("91,0")]
    [InlineData("0,181")]
    [InlineData("north,west")]
    public void NodeAnnotation_Malformed_IsNoPosition(string? text) => Assert.Null(NodeLocation.Parse(text));
}
