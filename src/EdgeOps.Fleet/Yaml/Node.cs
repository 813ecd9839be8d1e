using System.Collections.Immutable;
using System.Globalization;
using EdgeOps.Fleet.Diagnostics;

namespace EdgeOps.Fleet.Yaml;

public enum ScalarKind
{
    Null,
    Bool,
    Int,
    Float,
    String,
}

/// <summary>
/// An immutable YAML/JSON value that remembers where it was written. Manifests, fleet objects and
/// rendered output are all trees of these, so a value found wrong after rendering still points at
/// the line it came from. Trees are shared freely: nothing mutates a node.
/// </summary>
public abstract class Node
{
    protected Node(SourceLocation location) => Location = location;

    public SourceLocation Location { get; }

    public abstract string TypeName { get; }

    /// <summary>
    /// Memoised facts about this node's content (its content digest, that it was measured and found within
    /// the size limits), kept on the node itself: the node never changes, so they never go stale, and they
    /// die with it. A side table keyed by node (ConditionalWeakTable) would cost the GC a dependent handle
    /// per rendered object, scanned at every collection, which made validating a large fleet quadratic.
    /// Benign races: two threads may compute the same value.
    /// </summary>
    internal string? ContentDigest { get; set; }

    internal bool WithinLimits { get; set; }
}

public sealed class ScalarNode : Node
{
    public static readonly ScalarNode NullValue = new(string.Empty, ScalarKind.Null, SourceLocation.None);

    public ScalarNode(string value, ScalarKind kind, SourceLocation location, bool isSingleLinePlain = false, bool isQuoted = false)
        : base(location)
    {
        Value = value;
        Kind = kind;
        IsSingleLinePlain = isSingleLinePlain;
        IsQuoted = isQuoted;
    }

    /// <summary>The scalar's text as written (for a string, its decoded value).</summary>
    public string Value { get; }

    public ScalarKind Kind { get; }

    /// <summary>True when the text sits on one line exactly as written, so columns inside it are exact.</summary>
    public bool IsSingleLinePlain { get; }

    /// <summary>True when the author quoted or block-wrote the scalar: it is text, whatever it looks like.</summary>
    public bool IsQuoted { get; }

    public bool IsNull => Kind == ScalarKind.Null;

    public override string TypeName => Kind switch
    {
        ScalarKind.Null => "null",
        ScalarKind.Bool => "boolean",
        ScalarKind.Int => "integer",
        ScalarKind.Float => "number",
        _ => "string",
    };

    public static ScalarNode String(string value, SourceLocation location) => new(value, ScalarKind.String, location);

    public static ScalarNode Int(long value, SourceLocation location) =>
        new(value.ToString(CultureInfo.InvariantCulture), ScalarKind.Int, location);

    public static ScalarNode Bool(bool value, SourceLocation location) => new(value ? "true" : "false", ScalarKind.Bool, location);

    public bool TryGetDouble(out double value)
    {
        value = 0;
        return (Kind is ScalarKind.Int or ScalarKind.Float) && ScalarResolver.TryParseNumber(Value, out value);
    }

    public bool TryGetInt64(out long value)
    {
        value = 0;
        return Kind == ScalarKind.Int && ScalarResolver.TryParseInteger(Value, out value);
    }

    public bool TryGetBool(out bool value)
    {
        value = false;
        if (Kind != ScalarKind.Bool)
        {
            return false;
        }

        value = Value is "true" or "True" or "TRUE";
        return true;
    }

    public ScalarNode WithLocation(SourceLocation location) => new(Value, Kind, location, IsSingleLinePlain, IsQuoted);

    public override string ToString() => Value;
}

public sealed class SequenceNode : Node
{
    public SequenceNode(ImmutableArray<Node> items, SourceLocation location)
        : base(location) => Items = items;

    public ImmutableArray<Node> Items { get; }

    public int Count => Items.Length;

    public Node this[int index] => Items[index];

    public override string TypeName => "list";
}

public sealed class MappingNode : Node
{
    public static readonly MappingNode Empty = new([], SourceLocation.None);

    public MappingNode(ImmutableArray<KeyValuePair<ScalarNode, Node>> entries, SourceLocation location)
        : base(location) => Entries = entries;

    public ImmutableArray<KeyValuePair<ScalarNode, Node>> Entries { get; }

    public int Count => Entries.Length;

    public override string TypeName => "mapping";

    public Node? this[string key] => TryGet(key, out var value) ? value : null;

    public bool TryGet(string key, out Node value)
    {
        foreach (var entry in Entries)
        {
            if (string.Equals(entry.Key.Value, key, StringComparison.Ordinal))
            {
                value = entry.Value;
                return true;
            }
        }

        value = null!;
        return false;
    }

    public ScalarNode? KeyNode(string key)
    {
        foreach (var entry in Entries)
        {
            if (string.Equals(entry.Key.Value, key, StringComparison.Ordinal))
            {
                return entry.Key;
            }
        }

        return null;
    }

    /// <summary>A copy with <paramref name="key"/> set (replaced in place, or appended).</summary>
    public MappingNode With(string key, Node value, SourceLocation keyLocation = default)
    {
        var builder = ImmutableArray.CreateBuilder<KeyValuePair<ScalarNode, Node>>(Entries.Length + 1);
        var replaced = false;
        foreach (var entry in Entries)
        {
            if (!replaced && string.Equals(entry.Key.Value, key, StringComparison.Ordinal))
            {
                builder.Add(new(entry.Key, value));
                replaced = true;
            }
            else
            {
                builder.Add(entry);
            }
        }

        if (!replaced)
        {
            builder.Add(new(ScalarNode.String(key, keyLocation.IsKnown ? keyLocation : value.Location), value));
        }

        return new MappingNode(builder.ToImmutable(), Location);
    }

    public MappingNode Without(string key)
    {
        var kept = Entries.RemoveAll(e => string.Equals(e.Key.Value, key, StringComparison.Ordinal));
        return kept.Length == Entries.Length ? this : new MappingNode(kept, Location);
    }

    public string? GetString(string key) => this[key] is ScalarNode { IsNull: false } s ? s.Value : null;
}
