using System.Globalization;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Policy.Evaluation;

/// <summary>
/// Maps a violation's JSON path back to the line it came from. Rendered nodes keep the location of
/// the manifest (or overlay) text they came from, so walking the path through the rendered object
/// finds it; a path to a field that is absent points at its nearest present parent, where it
/// would be added.
/// </summary>
internal static class PathMapper
{
    /// <summary>Splits "spec.containers[0].image", "spec.containers.0.image", "/spec/containers/0/image" or a["x.y"].</summary>
    public static IReadOnlyList<string> Split(string path)
    {
        var segments = new List<string>();
        if (path.StartsWith('/'))
        {
            foreach (var part in path[1..].Split('/'))
            {
                segments.Add(part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));
            }

            return segments;
        }

        var i = 0;
        var current = new System.Text.StringBuilder();
        while (i < path.Length)
        {
            var c = path[i];
            if (c == '.')
            {
                Flush();
                i++;
            }
            else if (c == '[')
            {
                Flush();
                var close = path.IndexOf(']', i);
                if (close < 0)
                {
                    current.Append(path, i, path.Length - i);
                    break;
                }

                segments.Add(path[(i + 1)..close].Trim('"', '\''));
                i = close + 1;
            }
            else
            {
                current.Append(c);
                i++;
            }
        }

        Flush();
        return segments;

        void Flush()
        {
            if (current.Length > 0)
            {
                segments.Add(current.ToString());
                current.Clear();
            }
        }
    }

    public static SourceLocation Locate(Node root, string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return root.Location;
        }

        var node = root;
        foreach (var segment in Split(path))
        {
            Node? next = node switch
            {
                MappingNode map => map[segment],
                SequenceNode seq when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < seq.Count => seq[index],
                _ => null,
            };
            if (next is null || !next.Location.IsKnown)
            {
                break;
            }

            node = next;
        }

        return node.Location.IsKnown ? node.Location : root.Location;
    }
}
