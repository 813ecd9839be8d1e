using EdgeOps.Fleet.Model;

namespace EdgeOps.Fleet.Tests.Model;

public sealed class ValueParsingTests
{
    [Theory]
    [InlineData("500m", 0.5)]
    [InlineData("2", 2)]
    [InlineData("1.5", 1.5)]
    [InlineData("1Ki", 1024)]
    [InlineData("1Gi", 1073741824)]
    [InlineData("2M", 2000000)]
    [InlineData("1e3", 1000)]
    [InlineData("25e-2", 0.25)]
    [InlineData("100n", 0.0000001)]
    public void Quantity_TryParse_ReadsKubernetesForms(string text, double expected)
    {
        Assert.True(Quantity.TryParse(text, out var q));
        Assert.Equal((decimal)expected, q.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("1GB")]
    [InlineData("Gi")]
    [InlineData("1.2.3")]
    [InlineData("1e99")]
    public void Quantity_TryParse_RejectsWhatKubernetesRejects(string text) => Assert.False(Quantity.TryParse(text, out _));

    [Fact]
    public void Quantity_Compare_OrdersByValueNotText()
    {
        Assert.True(Quantity.TryParse("900m", out var a));
        Assert.True(Quantity.TryParse("1", out var b));
        Assert.True(a < b);
    }

    [Theory]
    [InlineData("90s", 90_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("250ms", 250)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("0", 0)]
    public void Duration_TryParse_ReadsGoForms(string text, double milliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out var d));
        Assert.Equal(milliseconds, d.TotalMilliseconds);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("2 hours")]
    [InlineData("h")]
    [InlineData("5w")]
    [InlineData("")]
    public void Duration_TryParse_RejectsOtherText(string text) => Assert.False(DurationParser.TryParse(text, out _));

    [Fact]
    public void GeoMath_DistanceKm_MatchesKnownDistance()
    {
        // Lleida to Trento, about 870 km on the great circle.
        var d = GeoMath.DistanceKm(new GeoPoint(41.6176, 0.6200), new GeoPoint(46.0748, 11.1217));
        Assert.InRange(d, 960, 980);
    }

    [Fact]
    public void GeoMath_DistanceKm_IsZeroForTheSamePointAndSymmetric()
    {
        var a = new GeoPoint(-39.64, 176.85);
        var b = new GeoPoint(41.6, 0.6);
        Assert.Equal(0, GeoMath.DistanceKm(a, a), 9);
        Assert.Equal(GeoMath.DistanceKm(a, b), GeoMath.DistanceKm(b, a), 9);
    }
}
