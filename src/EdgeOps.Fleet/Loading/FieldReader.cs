using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Loading;

/// <summary>
/// Reads the fields of one YAML mapping against a schema written as code: each accessor checks the
/// type and reports a located error, <see cref="Finish"/> reports every field nobody asked for. A
/// reader never throws on bad input; it reports and returns null so that loading goes on and every
/// problem is found in one run.
/// </summary>
internal sealed class FieldReader
{
    private readonly HashSet<string> _known;
    private readonly DiagnosticBag _diagnostics;

    public FieldReader(MappingNode node, string context, DiagnosticBag diagnostics)
    {
        Node = node;
        Context = context;
        _diagnostics = diagnostics;
        _known = new HashSet<string>(node.Count, StringComparer.Ordinal);
    }

    public MappingNode Node { get; }

    public string Context { get; }

    public DiagnosticBag Diagnostics => _diagnostics;

    /// <summary>
    /// A nested reader for a mapping value, or null (reported when required or not a mapping).
    /// </summary>
    public static FieldReader? For(Node? node, string context, DiagnosticBag diagnostics, SourceLocation whereMissing, bool required)
    {
        switch (node)
        {
            case null:
            case ScalarNode { IsNull: true }:
                if (required)
                {
                    diagnostics.Error(whereMissing, Codes.MissingField, $"{context} is required");
                }

                return null;
            case MappingNode map:
                return new FieldReader(map, context, diagnostics);
            default:
                diagnostics.Error(node.Location, Codes.WrongType, $"{context} must be a mapping, not {Article(node.TypeName)}");
                return null;
        }
    }

    public Node? Raw(string key, bool required = false)
    {
        _known.Add(key);
        var value = Node[key];
        if (value is null or ScalarNode { IsNull: true })
        {
            if (required)
            {
                _diagnostics.Error(Node.Location, Codes.MissingField, $"{Path(key)} is required");
            }

            return null;
        }

        return value;
    }

    public SourceLocation LocationOf(string key) => Node[key]?.Location ?? Node.Location;

    public Located<string>? String(string key, bool required = false)
    {
        var node = Raw(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is ScalarNode { Kind: ScalarKind.String } s)
        {
            if (required && s.Value.Length == 0)
            {
                _diagnostics.Error(s.Location, Codes.MissingField, $"{Path(key)} must not be empty");
                return null;
            }

            return new Located<string>(s.Value, s.Location);
        }

        var hint = node is ScalarNode ? $"; quote it if you mean the text \"{((ScalarNode)node).Value}\"" : string.Empty;
        _diagnostics.Error(node.Location, Codes.WrongType, $"{Path(key)} must be a string, not {Article(node.TypeName)}{hint}");
        return null;
    }

    public string? Enum(string key, IReadOnlyList<string> allowed, bool required = false)
    {
        var value = String(key, required);
        if (value is null)
        {
            return null;
        }

        if (!allowed.Contains(value.Value, StringComparer.Ordinal))
        {
            _diagnostics.Error(value.Location, Codes.InvalidEnum,
                $"{Path(key)} must be one of {string.Join(", ", allowed)}; found '{value.Value}'{Suggest(value.Value, allowed)}");
            return null;
        }

        return value.Value;
    }

    public double? Number(string key, bool required = false, double? min = null, double? max = null)
    {
        var node = Raw(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is not ScalarNode s || !s.TryGetDouble(out var value) || double.IsNaN(value) || double.IsInfinity(value))
        {
            _diagnostics.Error(node.Location, Codes.WrongType, $"{Path(key)} must be a number, not {Article(node.TypeName)}");
            return null;
        }

        if ((min is not null && value < min) || (max is not null && value > max))
        {
            var range = max is null ? $"at least {min}" : min is null ? $"at most {max}" : $"between {min} and {max}";
            _diagnostics.Error(node.Location, Codes.InvalidValue, $"{Path(key)} must be {range}; found {s.Value}");
            return null;
        }

        return value;
    }

    public long? Integer(string key, bool required = false, long min = long.MinValue, long max = long.MaxValue)
    {
        var node = Raw(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is not ScalarNode s || !s.TryGetInt64(out var value))
        {
            _diagnostics.Error(node.Location, Codes.WrongType, $"{Path(key)} must be an integer, not {Article(node.TypeName)}");
            return null;
        }

        if (value < min || value > max)
        {
            var range = max == long.MaxValue ? $"at least {min}" : $"between {min} and {max}";
            _diagnostics.Error(node.Location, Codes.InvalidValue, $"{Path(key)} must be {range}; found {value}");
            return null;
        }

        return value;
    }

    public bool? Bool(string key, bool required = false)
    {
        var node = Raw(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is not ScalarNode s || !s.TryGetBool(out var value))
        {
            _diagnostics.Error(node.Location, Codes.WrongType, $"{Path(key)} must be true or false, not {Article(node.TypeName)}");
            return null;
        }

        return value;
    }

    public TimeSpan? Duration(string key, bool required = false)
    {
        var value = String(key, required);
        if (value is null)
        {
            return null;
        }

        if (!DurationParser.TryParse(value.Value, out var duration))
        {
            _diagnostics.Error(value.Location, Codes.InvalidDuration,
                $"{Path(key)} '{value.Value}' is not a duration (use forms such as 90s, 5m, 1h30m)");
            return null;
        }

        return duration;
    }

    public Quantity? Quantity(string key, bool required = false)
    {
        var node = Raw(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is ScalarNode { Kind: ScalarKind.String or ScalarKind.Int or ScalarKind.Float } s
            && Model.Quantity.TryParse(s.Value, out var quantity) && quantity.Value >= 0)
        {
            return quantity;
        }

        _diagnostics.Error(node.Location, Codes.InvalidQuantity,
            $"{Path(key)} '{(node as ScalarNode)?.Value ?? node.TypeName}' is not a Kubernetes quantity (such as 500m, 2, 4Gi)");
        return null;
    }

    public FieldReader? Object(string key, bool required = false)
    {
        var node = Raw(key, required);
        return node is null ? null : For(node, Path(key), _diagnostics, Node.Location, required);
    }

    public MappingNode? Mapping(string key, bool required = false)
    {
        var node = Raw(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is MappingNode map)
        {
            return map;
        }

        _diagnostics.Error(node.Location, Codes.WrongType, $"{Path(key)} must be a mapping, not {Article(node.TypeName)}");
        return null;
    }

    public SequenceNode? Sequence(string key, bool required = false)
    {
        var node = Raw(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is SequenceNode seq)
        {
            return seq;
        }

        _diagnostics.Error(node.Location, Codes.WrongType, $"{Path(key)} must be a list, not {Article(node.TypeName)}");
        return null;
    }

    /// <summary>Readers for each mapping in a list field; items that are not mappings are reported.</summary>
    public IEnumerable<FieldReader> Objects(string key, bool required = false)
    {
        var seq = Sequence(key, required);
        if (seq is null)
        {
            yield break;
        }

        for (var i = 0; i < seq.Count; i++)
        {
            var reader = For(seq[i], $"{Path(key)}[{i}]", _diagnostics, seq.Location, required: true);
            if (reader is not null)
            {
                yield return reader;
            }
        }
    }

    public ImmutableArray<Located<string>> Strings(string key, bool required = false)
    {
        var seq = Sequence(key, required);
        if (seq is null)
        {
            return [];
        }

        var builder = ImmutableArray.CreateBuilder<Located<string>>(seq.Count);
        for (var i = 0; i < seq.Count; i++)
        {
            if (seq[i] is ScalarNode { Kind: ScalarKind.String } s)
            {
                builder.Add(new Located<string>(s.Value, s.Location));
            }
            else
            {
                _diagnostics.Error(seq[i].Location, Codes.WrongType, $"{Path(key)}[{i}] must be a string, not {Article(seq[i].TypeName)}");
            }
        }

        return builder.ToImmutable();
    }

    /// <summary>A mapping of string keys to string values, such as labels.</summary>
    public ImmutableSortedDictionary<string, string> StringMap(string key)
    {
        var map = Mapping(key);
        if (map is null)
        {
            return ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);
        }

        var builder = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Entries)
        {
            if (v is ScalarNode { Kind: ScalarKind.String } s)
            {
                builder[k.Value] = s.Value;
            }
            else
            {
                _diagnostics.Error(v.Location, Codes.WrongType,
                    $"{Path(key)}.{k.Value} must be a string, not {Article(v.TypeName)}{(v is ScalarNode sv ? $"; quote it: \"{sv.Value}\"" : string.Empty)}");
            }
        }

        return builder.ToImmutable();
    }

    /// <summary>Reports every field of the mapping that no accessor asked for.</summary>
    public void Finish()
    {
        foreach (var (key, _) in Node.Entries)
        {
            if (!_known.Contains(key.Value))
            {
                _diagnostics.Error(key.Location, Codes.UnknownField,
                    $"unknown field '{key.Value}' in {Context}{Suggest(key.Value, _known)}");
            }
        }
    }

    internal static string Article(string noun) => noun.Length > 0 && "aeiou".Contains(noun[0], StringComparison.Ordinal) ? $"an {noun}" : $"a {noun}";

    public string Path(string key) => Context.Length == 0 ? key : $"{Context}.{key}";

    public void Error(SourceLocation location, string code, string message) => _diagnostics.Error(location, code, message);

    internal static string Suggest(string value, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var d = Levenshtein(value.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance)
            {
                bestDistance = d;
                best = candidate;
            }
        }

        return best is not null && bestDistance <= Math.Max(1, value.Length / 3) ? $" (did you mean '{best}'?)" : string.Empty;
    }

    private static int Levenshtein(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
