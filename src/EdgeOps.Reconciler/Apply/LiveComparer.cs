using System.Text.Json.Nodes;
using EdgeOps.Fleet.Model;

namespace EdgeOps.Reconciler.Apply;

/// <summary>
/// Whether a live object still holds everything EdgeOps applied: every field of the desired object
/// must be present with an equal value; fields the server or others added are ignored. Quantities
/// compare by value ("1024Mi" equals "1Gi"), because the server rewrites them.
/// </summary>
public static class LiveComparer
{
    private static readonly HashSet<string> IgnoredMetadata = new(StringComparer.Ordinal) { "resourceVersion", "uid", "generation", "creationTimestamp", "managedFields" };

    public static bool Holds(JsonNode? desired, JsonNode? live, bool atMetadata = false)
    {
        switch (desired)
        {
            case null:
                return live is null;
            case JsonObject d:
                if (live is not JsonObject l)
                {
                    return false;
                }

                foreach (var (key, value) in d)
                {
                    if (atMetadata && IgnoredMetadata.Contains(key))
                    {
                        continue;
                    }

                    if (!l.TryGetPropertyValue(key, out var other))
                    {
                        // An empty map or list applied leaves nothing to see live.
                        if (value is JsonObject { Count: 0 } or JsonArray { Count: 0 } or null)
                        {
                            continue;
                        }

                        return false;
                    }

                    if (!Holds(value, other, key == "metadata"))
                    {
                        return false;
                    }
                }

                return true;
            case JsonArray d:
                if (live is not JsonArray la || la.Count != d.Count)
                {
                    return false;
                }

                for (var i = 0; i < d.Count; i++)
                {
                    if (!Holds(d[i], la[i]))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValue d:
                if (live is not JsonValue lv)
                {
                    return false;
                }

                if (JsonNode.DeepEquals(d, lv))
                {
                    return true;
                }

                var a = d.ToString();
                var b = lv.ToString();
                return string.Equals(a, b, StringComparison.Ordinal)
                    || (Quantity.TryParse(a, out var qa) && Quantity.TryParse(b, out var qb) && qa.Value == qb.Value);
            default:
                return false;
        }
    }
}
