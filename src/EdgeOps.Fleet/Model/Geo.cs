using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;

namespace EdgeOps.Fleet.Model;

/// <summary>A WGS 84 position in decimal degrees.</summary>
public readonly record struct GeoPoint(double Lat, double Lon)
{
    /// <summary>
    /// The position, when both numbers are on the globe (latitude -90 to 90, longitude -180 to 180); null otherwise.
    /// For positions from outside the repo (a GPS receiver, a facts file, a report), where a glitch must not move a robot.
    /// </summary>
    public static GeoPoint? OnTheGlobe(double? lat, double? lon) =>
        lat is >= -90 and <= 90 && lon is >= -180 and <= 180 ? new GeoPoint(lat.Value, lon.Value) : null;
}

/// <summary>A circle on the Earth's surface.</summary>
public sealed record GeoCircle(GeoPoint Center, double RadiusKm, SourceLocation Location);

/// <summary>A GeoJSON polygon: an outer ring and holes, each ring closed (first point = last point).</summary>
public sealed record GeoPolygon(ImmutableArray<ImmutableArray<GeoPoint>> Rings);

/// <summary>A GeoJSON Polygon or MultiPolygon used as a geofence.</summary>
public sealed record GeoFence(string Type, ImmutableArray<GeoPolygon> Polygons, SourceLocation Location);

public static class GeoMath
{
    public const double EarthRadiusKm = 6371.0088;

    /// <summary>Great-circle distance by the haversine formula, in kilometres.</summary>
    public static double DistanceKm(GeoPoint a, GeoPoint b)
    {
        var lat1 = ToRadians(a.Lat);
        var lat2 = ToRadians(b.Lat);
        var dLat = lat2 - lat1;
        var dLon = ToRadians(b.Lon - a.Lon);
        var h = (Math.Sin(dLat / 2) * Math.Sin(dLat / 2))
            + (Math.Cos(lat1) * Math.Cos(lat2) * Math.Sin(dLon / 2) * Math.Sin(dLon / 2));
        return 2 * EarthRadiusKm * Math.Asin(Math.Min(1, Math.Sqrt(h)));
    }

    public static bool Contains(GeoCircle circle, GeoPoint point) => DistanceKm(circle.Center, point) <= circle.RadiusKm;

    /// <summary>How far inside (positive) or outside (negative) the circle's edge a point is, in metres.</summary>
    public static double SignedDistanceMetres(GeoCircle circle, GeoPoint point) => (circle.RadiusKm - DistanceKm(circle.Center, point)) * 1000;

    /// <summary>
    /// How far inside (positive) or outside (negative) the fence a point is, in metres: the distance to the nearest
    /// edge of any ring, on a local equirectangular projection (metre-accurate at geofence scales).
    /// </summary>
    public static double SignedDistanceMetres(GeoFence fence, GeoPoint point)
    {
        var nearest = double.PositiveInfinity;
        var metresPerDegreeLat = EarthRadiusKm * 1000 * Math.PI / 180;
        var metresPerDegreeLon = metresPerDegreeLat * Math.Cos(ToRadians(point.Lat));
        foreach (var ring in fence.Polygons.SelectMany(p => p.Rings))
        {
            for (var i = 0; i + 1 < ring.Length; i++)
            {
                var ax = (ring[i].Lon - point.Lon) * metresPerDegreeLon;
                var ay = (ring[i].Lat - point.Lat) * metresPerDegreeLat;
                var bx = (ring[i + 1].Lon - point.Lon) * metresPerDegreeLon;
                var by = (ring[i + 1].Lat - point.Lat) * metresPerDegreeLat;
                var dx = bx - ax;
                var dy = by - ay;
                var length = (dx * dx) + (dy * dy);
                var t = length == 0 ? 0 : Math.Clamp(-((ax * dx) + (ay * dy)) / length, 0, 1);
                var x = ax + (t * dx);
                var y = ay + (t * dy);
                nearest = Math.Min(nearest, Math.Sqrt((x * x) + (y * y)));
            }
        }

        return Contains(fence, point) ? nearest : -nearest;
    }

    /// <summary>The signed distance to a placement's location constraints (the tighter of circle and fence), in metres.</summary>
    public static double SignedDistanceMetres(Placement placement, GeoPoint point) => Math.Min(
        placement.Within is { } circle ? SignedDistanceMetres(circle, point) : double.PositiveInfinity,
        placement.Geofence is { } fence ? SignedDistanceMetres(fence, point) : double.PositiveInfinity);

    /// <summary>
    /// Point in polygon by ray casting on longitude/latitude (planar, as GeoJSON specifies): inside the
    /// outer ring and outside every hole. Points on an edge count as inside.
    /// </summary>
    public static bool Contains(GeoFence fence, GeoPoint point)
    {
        foreach (var polygon in fence.Polygons)
        {
            if (polygon.Rings.Length == 0 || !RingContains(polygon.Rings[0], point))
            {
                continue;
            }

            var inHole = false;
            for (var i = 1; i < polygon.Rings.Length && !inHole; i++)
            {
                inHole = RingContains(polygon.Rings[i], point) && !OnBoundary(polygon.Rings[i], point);
            }

            if (!inHole)
            {
                return true;
            }
        }

        return false;
    }

    private static bool RingContains(ImmutableArray<GeoPoint> ring, GeoPoint p)
    {
        if (OnBoundary(ring, p))
        {
            return true;
        }

        var inside = false;
        for (int i = 0, j = ring.Length - 1; i < ring.Length; j = i++)
        {
            var a = ring[i];
            var b = ring[j];
            if ((a.Lat > p.Lat) != (b.Lat > p.Lat))
            {
                var lonAtLat = ((b.Lon - a.Lon) * (p.Lat - a.Lat) / (b.Lat - a.Lat)) + a.Lon;
                if (p.Lon < lonAtLat)
                {
                    inside = !inside;
                }
            }
        }

        return inside;
    }

    private static bool OnBoundary(ImmutableArray<GeoPoint> ring, GeoPoint p)
    {
        const double Epsilon = 1e-12;
        for (var i = 0; i + 1 < ring.Length; i++)
        {
            var a = ring[i];
            var b = ring[i + 1];
            var cross = ((b.Lon - a.Lon) * (p.Lat - a.Lat)) - ((b.Lat - a.Lat) * (p.Lon - a.Lon));
            if (Math.Abs(cross) > Epsilon)
            {
                continue;
            }

            if (p.Lon >= Math.Min(a.Lon, b.Lon) - Epsilon && p.Lon <= Math.Max(a.Lon, b.Lon) + Epsilon
                && p.Lat >= Math.Min(a.Lat, b.Lat) - Epsilon && p.Lat <= Math.Max(a.Lat, b.Lat) + Epsilon)
            {
                return true;
            }
        }

        return false;
    }

    private static double ToRadians(double degrees) => degrees * Math.PI / 180.0;
}
