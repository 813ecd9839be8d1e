using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Loading;

/// <summary>Reads and checks GeoJSON (RFC 7946) Polygon and MultiPolygon geometries, or a Feature holding one.</summary>
internal static class GeoJson
{
    public static GeoFence? ReadFence(Node node, string context, DiagnosticBag diagnostics)
    {
        if (node is not MappingNode map)
        {
            diagnostics.Error(node.Location, Codes.InvalidGeoJson, $"{context} must be a GeoJSON geometry mapping, not a {node.TypeName}");
            return null;
        }

        var type = map.GetString("type");
        if (type == "Feature")
        {
            var geometry = map["geometry"];
            if (geometry is null)
            {
                diagnostics.Error(map.Location, Codes.InvalidGeoJson, $"{context}: a GeoJSON Feature needs a geometry");
                return null;
            }

            return ReadFence(geometry, context + ".geometry", diagnostics);
        }

        foreach (var (key, _) in map.Entries)
        {
            if (key.Value is not ("type" or "coordinates" or "bbox"))
            {
                diagnostics.Error(key.Location, Codes.InvalidGeoJson, $"unknown field '{key.Value}' in {context} (a geometry has type and coordinates)");
            }
        }

        var coordinates = map["coordinates"];
        if (type is not ("Polygon" or "MultiPolygon"))
        {
            diagnostics.Error(map["type"]?.Location ?? map.Location, Codes.InvalidGeoJson,
                type is null
                    ? $"{context} needs a type: Polygon or MultiPolygon"
                    : $"{context} type '{type}' is not supported for a geofence; use Polygon or MultiPolygon");
            return null;
        }

        if (coordinates is not SequenceNode seq)
        {
            diagnostics.Error(coordinates?.Location ?? map.Location, Codes.InvalidGeoJson, $"{context}.coordinates must be a list");
            return null;
        }

        var polygons = ImmutableArray.CreateBuilder<GeoPolygon>();
        var ok = true;
        if (type == "Polygon")
        {
            var polygon = ReadPolygon(seq, $"{context}.coordinates", diagnostics);
            ok = polygon is not null;
            if (polygon is not null)
            {
                polygons.Add(polygon);
            }
        }
        else
        {
            if (seq.Count == 0)
            {
                diagnostics.Error(seq.Location, Codes.InvalidGeoJson, $"{context}.coordinates of a MultiPolygon must hold at least one polygon");
                return null;
            }

            for (var i = 0; i < seq.Count; i++)
            {
                if (seq[i] is not SequenceNode polySeq)
                {
                    diagnostics.Error(seq[i].Location, Codes.InvalidGeoJson, $"{context}.coordinates[{i}] must be a list of rings");
                    ok = false;
                    continue;
                }

                var polygon = ReadPolygon(polySeq, $"{context}.coordinates[{i}]", diagnostics);
                if (polygon is null)
                {
                    ok = false;
                }
                else
                {
                    polygons.Add(polygon);
                }
            }
        }

        return ok ? new GeoFence(type, polygons.ToImmutable(), map.Location) : null;
    }

    private static GeoPolygon? ReadPolygon(SequenceNode rings, string context, DiagnosticBag diagnostics)
    {
        if (rings.Count == 0)
        {
            diagnostics.Error(rings.Location, Codes.InvalidGeoJson, $"{context}: a polygon needs an outer ring");
            return null;
        }

        var result = ImmutableArray.CreateBuilder<ImmutableArray<GeoPoint>>(rings.Count);
        var ok = true;
        for (var r = 0; r < rings.Count; r++)
        {
            var ringContext = $"{context}[{r}]";
            if (rings[r] is not SequenceNode ring)
            {
                diagnostics.Error(rings[r].Location, Codes.InvalidGeoJson, $"{ringContext} must be a list of positions");
                ok = false;
                continue;
            }

            var points = ImmutableArray.CreateBuilder<GeoPoint>(ring.Count);
            foreach (var position in ring.Items)
            {
                var point = ReadPosition(position, ringContext, diagnostics);
                if (point is null)
                {
                    ok = false;
                }
                else
                {
                    points.Add(point.Value);
                }
            }

            if (points.Count != ring.Count)
            {
                continue;
            }

            if (points.Count < 4)
            {
                diagnostics.Error(ring.Location, Codes.InvalidGeoJson, $"{ringContext}: a linear ring needs at least 4 positions, found {points.Count}");
                ok = false;
            }
            else if (points[0] != points[^1])
            {
                diagnostics.Error(ring.Location, Codes.InvalidGeoJson, $"{ringContext}: a linear ring must be closed (its last position equal to its first)");
                ok = false;
            }

            result.Add(points.ToImmutable());
        }

        return ok ? new GeoPolygon(result.ToImmutable()) : null;
    }

    private static GeoPoint? ReadPosition(Node node, string context, DiagnosticBag diagnostics)
    {
        if (node is not SequenceNode { Count: 2 or 3 } pos
            || pos[0] is not ScalarNode lonNode || !lonNode.TryGetDouble(out var lon)
            || pos[1] is not ScalarNode latNode || !latNode.TryGetDouble(out var lat))
        {
            diagnostics.Error(node.Location, Codes.InvalidGeoJson, $"{context}: a position must be [longitude, latitude]");
            return null;
        }

        if (lon is < -180 or > 180 || double.IsNaN(lon))
        {
            diagnostics.Error(lonNode.Location, Codes.CoordinateOutOfRange, $"{context}: longitude {lonNode.Value} is outside -180..180 (GeoJSON positions are [longitude, latitude])");
            return null;
        }

        if (lat is < -90 or > 90 || double.IsNaN(lat))
        {
            diagnostics.Error(latNode.Location, Codes.CoordinateOutOfRange, $"{context}: latitude {latNode.Value} is outside -90..90 (GeoJSON positions are [longitude, latitude])");
            return null;
        }

        return new GeoPoint(lat, lon);
    }
}
