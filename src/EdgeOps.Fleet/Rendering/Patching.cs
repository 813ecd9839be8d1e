using System.Collections.Immutable;
using System.Globalization;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Rendering;

/// <summary>A patch that cannot be applied; the message says which operation and why.</summary>
public sealed class PatchException(string message, SourceLocation location) : Exception(message)
{
    public SourceLocation Location { get; } = location;
}

/// <summary>JSON merge patch (RFC 7386) and JSON patch (RFC 6902) over immutable nodes.</summary>
public static class Patching
{
    public static Node MergePatch(Node target, Node patch)
    {
        if (patch is not MappingNode patchMap)
        {
            return patch;
        }

        var result = target as MappingNode ?? new MappingNode([], patch.Location);
        foreach (var (key, value) in patchMap.Entries)
        {
            if (value is ScalarNode { IsNull: true })
            {
                result = result.Without(key.Value);
            }
            else
            {
                var current = result[key.Value];
                result = result.With(key.Value, MergePatch(current ?? MappingNode.Empty, value), key.Location);
            }
        }

        return result;
    }

    public static Node JsonPatch(Node target, SequenceNode operations)
    {
        var document = target;
        foreach (var opNode in operations.Items)
        {
            var op = (MappingNode)opNode;
            var kind = op.GetString("op")!;
            var path = op.GetString("path")!;
            var location = op.Location;
            var pointer = ParsePointer(path, location);
            switch (kind)
            {
                case "add":
                    document = Add(document, pointer, op["value"]!, location);
                    break;
                case "remove":
                    document = Remove(document, pointer, location, out _);
                    break;
                case "replace":
                    document = Remove(document, pointer, location, out _);
                    document = Add(document, pointer, op["value"]!, location);
                    break;
                case "move":
                    {
                        var from = ParsePointer(op.GetString("from")!, location);
                        if (from.Length < pointer.Length && pointer.AsSpan(0, from.Length).SequenceEqual(from))
                        {
                            throw new PatchException($"cannot move '{op.GetString("from")}' into its own child '{path}'", location);
                        }

                        document = Remove(document, from, location, out var moved);
                        document = Add(document, pointer, moved, location);
                        break;
                    }

                case "copy":
                    {
                        var from = ParsePointer(op.GetString("from")!, location);
                        var value = Get(document, from, location);
                        document = Add(document, pointer, value, location);
                        break;
                    }

                case "test":
                    {
                        var actual = Get(document, pointer, location);
                        if (!NodeEquality.Equal(actual, op["value"]!))
                        {
                            throw new PatchException($"test failed: '{path}' is {JsonText.Write(actual)}, not {JsonText.Write(op["value"]!)}", location);
                        }

                        break;
                    }
            }
        }

        return document;
    }

    internal static string[] ParsePointer(string pointer, SourceLocation location)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (pointer[0] != '/')
        {
            throw new PatchException($"'{pointer}' is not a JSON pointer", location);
        }

        return pointer[1..].Split('/').Select(p => p.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
    }

    private static string Describe(string[] pointer, int upTo) =>
        "/" + string.Join('/', pointer.Take(upTo).Select(p => p.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)));

    private static Node Get(Node document, string[] pointer, SourceLocation location)
    {
        var current = document;
        for (var i = 0; i < pointer.Length; i++)
        {
            current = Child(current, pointer[i]) ?? throw new PatchException($"path '{Describe(pointer, i + 1)}' does not exist", location);
        }

        return current;
    }

    private static Node? Child(Node node, string token) => node switch
    {
        MappingNode map => map[token],
        SequenceNode seq when TryIndex(token, seq.Count, out var index) && index < seq.Count => seq[index],
        _ => null,
    };

    private static Node Add(Node document, string[] pointer, Node value, SourceLocation location) =>
        pointer.Length == 0 ? value : Update(document, pointer, 0, location, (parent, token) => parent switch
        {
            MappingNode map => map.With(token, value),
            SequenceNode seq when token == "-" => new SequenceNode(seq.Items.Add(value), seq.Location),
            SequenceNode seq when TryIndex(token, seq.Count + 1, out var index) => new SequenceNode(seq.Items.Insert(index, value), seq.Location),
            SequenceNode => throw new PatchException($"index '{token}' is out of range at '{Describe(pointer, pointer.Length)}'", location),
            _ => throw new PatchException($"'{Describe(pointer, pointer.Length - 1)}' is a {parent.TypeName}; cannot add '{token}' to it", location),
        });

    private static Node Remove(Node document, string[] pointer, SourceLocation location, out Node removed)
    {
        if (pointer.Length == 0)
        {
            throw new PatchException("cannot remove the whole object", location);
        }

        Node? taken = null;
        var result = Update(document, pointer, 0, location, (parent, token) =>
        {
            switch (parent)
            {
                case MappingNode map when map.TryGet(token, out var existing):
                    taken = existing;
                    return map.Without(token);
                case SequenceNode seq when TryIndex(token, seq.Count, out var index) && index < seq.Count:
                    taken = seq[index];
                    return new SequenceNode(seq.Items.RemoveAt(index), seq.Location);
                default:
                    throw new PatchException($"path '{Describe(pointer, pointer.Length)}' does not exist", location);
            }
        });
        removed = taken!;
        return result;
    }

    private static Node Update(Node node, string[] pointer, int depth, SourceLocation location, Func<Node, string, Node> atParent)
    {
        var token = pointer[depth];
        if (depth == pointer.Length - 1)
        {
            return atParent(node, token);
        }

        var child = Child(node, token) ?? throw new PatchException($"path '{Describe(pointer, depth + 1)}' does not exist", location);
        var updated = Update(child, pointer, depth + 1, location, atParent);
        return node switch
        {
            MappingNode map => map.With(token, updated),
            SequenceNode seq => new SequenceNode(seq.Items.SetItem(int.Parse(token, CultureInfo.InvariantCulture), updated), seq.Location),
            _ => throw new PatchException($"path '{Describe(pointer, depth + 1)}' does not exist", location),
        };
    }

    private static bool TryIndex(string token, int limit, out int index)
    {
        index = -1;
        if (token.Length == 0 || (token.Length > 1 && token[0] == '0') || token.Any(c => !char.IsAsciiDigit(c)))
        {
            return false;
        }

        return int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out index) && index < limit;
    }
}

/// <summary>Structural equality of node trees as JSON values (locations and key order ignored).</summary>
public static class NodeEquality
{
    public static bool Equal(Node a, Node b)
    {
        switch (a, b)
        {
            case (ScalarNode x, ScalarNode y):
                if (x.Kind != y.Kind)
                {
                    return (x.Kind is ScalarKind.Int or ScalarKind.Float) && (y.Kind is ScalarKind.Int or ScalarKind.Float)
                        && x.TryGetDouble(out var dx) && y.TryGetDouble(out var dy) && dx.Equals(dy);
                }

                return x.Kind switch
                {
                    ScalarKind.Null => true,
                    ScalarKind.Bool => x.TryGetBool(out var bx) && y.TryGetBool(out var by) && bx == by,
                    ScalarKind.Int or ScalarKind.Float => x.TryGetDouble(out var nx) && y.TryGetDouble(out var ny) && nx.Equals(ny),
                    _ => string.Equals(x.Value, y.Value, StringComparison.Ordinal),
                };
            case (SequenceNode x, SequenceNode y):
                if (x.Count != y.Count)
                {
                    return false;
                }

                for (var i = 0; i < x.Count; i++)
                {
                    if (!Equal(x[i], y[i]))
                    {
                        return false;
                    }
                }

                return true;
            case (MappingNode x, MappingNode y):
                if (x.Count != y.Count)
                {
                    return false;
                }

                foreach (var (key, value) in x.Entries)
                {
                    if (!y.TryGet(key.Value, out var other) || !Equal(value, other))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return false;
        }
    }
}
