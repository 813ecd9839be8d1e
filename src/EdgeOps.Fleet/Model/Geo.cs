using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;

namespace EdgeOps.Fleet.Model;

/// <summary>A WGS 84 position in decimal degrees.</summary>
public readonly record struct GeoPoint(double Lat, double Lon);

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
